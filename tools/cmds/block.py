"""The blocking list and sorted-set commands percore implements, with
one-line summaries in our own words (read by tools/gen_cmdmeta.py)."""

COMMANDS = [
    ("blpop", None), ("brpop", None), ("brpoplpush", None), ("blmove", None),
    ("blmpop", None), ("bzpopmin", None), ("bzpopmax", None), ("bzmpop", None),
]

SUMMARY = {
    "blpop": "Take the head element of the first non-empty list, waiting for one if all are empty",
    "brpop": "Take the tail element of the first non-empty list, waiting for one if all are empty",
    "brpoplpush": "Move a list's tail element to another list's head, waiting while the source is empty",
    "blmove": "Move an element from one end of a list to an end of another, waiting while the source is empty",
    "blmpop": "Take elements from the first non-empty of several lists, waiting for one if all are empty",
    "bzpopmin": "Take the lowest-scored member of the first non-empty sorted set, waiting if all are empty",
    "bzpopmax": "Take the highest-scored member of the first non-empty sorted set, waiting if all are empty",
    "bzmpop": "Take the lowest or highest members of the first non-empty of several sorted sets, waiting if all are empty",
}
