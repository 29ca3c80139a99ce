"""The command table against the reference server: COMMAND COUNT/INFO/DOCS/
LIST/GETKEYS answered as Redis 7.0.15 answers them for every command percore
has (tools/check_cmdtable.py does the comparing)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import check_cmdtable  # noqa: E402


def test_command_table_matches_reference(diff):
    diffs = check_cmdtable.compare(diff.percore_port, diff.redis_port)
    assert diffs == []
