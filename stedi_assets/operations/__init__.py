"""Running it: the settings, the Dagster instance, Spark's configuration and the warm engine,
Java, the AWS clients' retries, and what a run shows and reports."""
