"""Reading users' files and writing results: FASTA, tables, NPZ, prediction tables.

Each module does one job: `fasta` (records, streamed), `labels` (class labels
from headers, a TSV, or one file per class), `tables` (CSV/TSV), `npz`,
`readers` / `writers` (the registry entries that name them), `atomic`
(outputs that are never left half-written), `inputs` (where every input is
opened: `-` for standard input, streams read once, gzip by content) and
`outputs` (where every output is checked and opened: never an input, never a
special file, `-` for standard output).  Every reader raises
`lstmcore.errors.UserInputError` for bad input.
"""
