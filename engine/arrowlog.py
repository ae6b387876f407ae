"""The fast readers of plain request logs: CSV and Parquet through pyarrow, straight to numpy, no pandas.

`impact batch` reads a plain CSV or Parquet log here (no mapping file, no grid profile) when pyarrow is
installed; `requestlog.FAST_READERS = False` turns it off. The columns a batch reads as numbers become float64
arrays (NaN where a cell is empty) and every other column a `logcolumns.Coded` text column; the cells are then
checked by the same code as the pandas reader's (engine.logcells), so every bad cell is the same located error.

A CSV file is cut into blocks of whole lines, `rows` lines each. A block goes to pyarrow only when pyarrow reads
it as the pandas reader would: no quote, space, tab or carriage return in it (pandas drops a space after a
comma; a quoted field may hold a newline), every line with all its fields (pandas pads a short line with
empty cells), one row per line, every number finite and none a negative zero (pandas keeps `nan` as text and
reads `-0` as the integer 0). At the first block that is not so, the rest of the file from that block's first
line goes to the pandas reader (`Log._csv_chunks(skip=...)`, which counts lines as before), so what is
unusual is read, and reported, exactly as it always was. pyarrow parses a decimal to the nearest double, as
Python's `float` does; so does pandas' parser on every number we tried (tests/test_fastlog.py checks both
paths agree).

Parquet: numeric columns of an integer or floating type and text columns of a string type convert directly;
any other column (booleans, timestamps, decimals) goes through pandas as the pandas reader took it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .logcolumns import Coded, Columns
from .requestlog import MAX_LINE, Chunk

PIECE = 8 << 20  # bytes read at a time; cut into blocks of whole lines
UNUSUAL = (b'"', b" ", b"\t", b"\r")  # a block with any of these is read by pandas


def _pyarrow():
    try:
        import pyarrow as pa
    except ImportError:
        return None
    return pa


def chunks(log, rows: int, numeric: set[str], text: set[str]):
    """A generator of the log's chunks, or None when this reader cannot take it (no pyarrow). `numeric` are
    the columns read as numbers, `text` those read as texts; the others are not read."""
    pa = _pyarrow()
    if pa is None:
        return None
    if log.fmt == "parquet":
        return _ahead(_parquet_chunks(log, rows, numeric, text, pa))
    if '"' in ",".join(log.raw):  # a quoted header: the pandas reader parses it as it always has
        return None
    return _ahead(_csv_chunks(log, rows, numeric, text, pa))


_END = object()


def _ahead(chunks):
    """The chunks of a reader, each read in a worker thread while the one before it is evaluated (pyarrow
    parses without holding the interpreter, so reading and evaluating share the machine's cores)."""
    try:
        with ThreadPoolExecutor(1) as worker:
            coming = worker.submit(next, chunks, _END)
            while (chunk := coming.result()) is not _END:
                coming = worker.submit(next, chunks, _END)
                yield chunk
    finally:  # the worker is done: close the reader (and its file) here, now
        chunks.close()


# -- CSV -----------------------------------------------------------------------------------------------------


def _csv_chunks(log, rows: int, numeric: set[str], text: set[str], pa):
    import pyarrow.csv as pacsv

    from .logreaders import open_stream

    coded = pa.dictionary(pa.int32(), pa.string())
    types = {c: pa.float64() if c in numeric else coded if c in text else pa.string() for c in log.raw}
    options = (pacsv.ReadOptions(column_names=log.raw), pacsv.ParseOptions(ignore_empty_lines=False),
               pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True))  # fmt: skip
    line = 2
    with open_stream(log.path, log.shown) as (fh, raw):
        fh.readline(MAX_LINE + 1)  # the header, read and checked by requestlog._csv_header
        for data, stop, count in _blocks(fh, rows):
            frame = _block(data, stop, count, log.raw, numeric, text, options, pa, pacsv)
            if frame is None:
                yield from log._csv_chunks(rows, skip=line - 2)
                return
            yield Chunk(frame, np.arange(line, line + count), {}, raw.tell())
            line += count


def _blocks(fh, rows: int):
    """(bytes, end, number of lines) of each block of `rows` whole lines (the last one may be shorter)."""
    data, ends = b"", np.empty(0, dtype=np.int64)  # what is read and not yet given; its lines' ends
    while True:
        piece = fh.read(PIECE)
        found = np.flatnonzero(np.frombuffer(piece, dtype=np.uint8) == 10) + (len(data) + 1)
        data, ends = data + piece, np.concatenate([ends, found])
        if not piece and len(data) and ends[-1:].tolist() != [len(data)]:
            ends = np.append(ends, len(data))  # the last line has no newline
        while len(ends) >= rows or (not piece and len(ends)):  # chunks of `rows` lines, as pandas cuts them
            count = min(rows, len(ends))
            stop = int(ends[count - 1])
            yield data, stop, count
            data, ends = data[stop:], ends[count:] - stop
        if not piece:
            return


def _block(data: bytes, stop: int, count: int, names, numeric, text, options, pa, pacsv):
    """The Columns of the `count` lines data[:stop], or None when pyarrow might read them otherwise than
    pandas (see the module docstring)."""
    if any(data.find(c, 0, stop) >= 0 for c in UNUSUAL):
        return None
    try:
        table = pacsv.read_csv(pa.py_buffer(memoryview(data)[:stop]), *options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != count:
        return None
    columns = {}
    for name in names:
        column = table.column(name)
        if name in numeric:
            values = _concat([_numpy(c, np.float64, np.nan) for c in column.chunks], np.float64)
            finite = np.isfinite(values)
            if (len(values) - int(finite.sum()) != column.null_count) or np.signbit(values[values == 0]).any():
                return None
            columns[name] = values
        elif name in text:
            columns[name] = _coded(column.unify_dictionaries() if column.num_chunks > 1 else column)
    return Columns(columns, count)


def _coded(column) -> Coded:
    """A dictionary-encoded ChunkedArray (one dictionary for all its chunks) as a Coded column."""
    levels = column.chunks[0].dictionary.to_pylist() if column.num_chunks else []
    codes = _concat([_numpy(c.indices, _integers(c.indices.type), -1) for c in column.chunks], np.intp)
    return Coded(codes, levels).ordered()


def _numpy(array, dtype, missing) -> np.ndarray:
    """A pyarrow array of fixed-width values as numpy, read from its buffers (pyarrow's own conversions
    import pandas), `missing` where it is null."""
    offset, n = array.offset, len(array)
    validity, data = array.buffers()[:2]
    values = np.frombuffer(data, dtype=dtype, count=offset + n)[offset:]
    if array.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=offset + n, bitorder="little")
        values = np.where(bits[offset:].astype(bool), values, missing)
    return values


def _integers(kind) -> np.dtype:
    """The numpy dtype of a pyarrow integer type."""
    import pyarrow as pa

    return np.dtype(f"{'i' if pa.types.is_signed_integer(kind) else 'u'}{kind.bit_width // 8}")


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    """The parts end to end, as a new writable array."""
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype=dtype)


# -- Parquet -------------------------------------------------------------------------------------------------


def _parquet_chunks(log, rows: int, numeric: set[str], text: set[str], pa):
    from .logreaders import _parquet

    table = _parquet(log.path, log.shown, [c for c in log.raw if c in text])
    size, done, first = log.path.stat().st_size, 0, 1
    for batch in table.iter_batches(batch_size=rows):
        n = batch.num_rows
        columns = {}
        for name, array in zip(batch.schema.names, batch.columns, strict=True):
            kind = array.type
            if name in numeric and (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                columns[name] = _concat([_numpy(array.cast(pa.float64(), safe=False), np.float64, np.nan)], np.float64)
            elif name in text and _is_text(pa, kind):
                encoded = array if pa.types.is_dictionary(kind) else array.dictionary_encode()
                columns[name] = _coded(pa.chunked_array([encoded]))
            elif name in numeric or name in text:  # as the pandas reader had it
                columns[name] = array.to_pandas()
        done += batch.nbytes
        yield Chunk(Columns(columns, n), np.arange(first, first + n), {}, min(done, size))
        first += n


def _is_text(pa, kind) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(pa, kind.value_type)
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)
