"""Reading users' files and writing results: FASTA, tables, NPZ, prediction tables.

Each module does one job: `fasta` (records, streamed), `labels` (class labels
from headers, a TSV, or one file per class), `tables` (CSV/TSV), `npz`,
`readers` / `writers` (the registry entries that name them), and `atomic`
(outputs that are never left half-written).  Every reader raises
`lstmcore.errors.UserInputError` for bad input.
"""
