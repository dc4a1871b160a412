from stedi_assets.metadata import MASKED, markdown_preview


def test_preview_masks_direct_identifiers_and_raw_lines(spark):
    table = spark.createDataFrame(
        [("Ann.Lee@test.com", "Ann Lee", "id1", '{"email": "x@y.z"}')],
        "email string, customer_name string, customer_id string, raw_line string",
    )
    preview = markdown_preview(table)
    assert "Ann" not in preview and "@" not in preview
    assert preview.splitlines()[2] == f"| {MASKED} | {MASKED} | id1 | {MASKED} |"
