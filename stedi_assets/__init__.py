"""STEDI lakehouse: landing -> trusted -> curated tables as Spark-backed Dagster assets.

`defs` (the code location `dagster -m stedi_assets` loads) is built when first asked for, so
that `stedi`, which imports this package first, pays for Dagster and Spark only in the commands
that use them (a run that finds nothing new uses neither)."""


def __getattr__(name: str):
    if name == "defs":
        from stedi_assets.pipeline.definitions import build_definitions

        globals()["defs"] = build_definitions()
        return globals()["defs"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:  # Dagster finds `defs` by listing the module's names
    return sorted({*globals(), "defs"})
