"""The rules of the data: the contract, validation, the transformations, what the checks look
for and the row accounting, as plain Python and PySpark (no Dagster, no lake)."""
