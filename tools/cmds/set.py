"""The set commands percore implements, for tools/gen_cmdmeta.py: names and
one-line summaries in our own words (the other facts come from the
reference server)."""

COMMANDS = [
    ("sadd", None), ("srem", None), ("scard", None), ("sismember", None),
    ("smismember", None), ("smembers", None), ("spop", None), ("srandmember", None),
    ("smove", None), ("sinter", None), ("sintercard", None), ("sunion", None),
    ("sdiff", None), ("sinterstore", None), ("sunionstore", None), ("sdiffstore", None),
    ("sscan", None),
]

SUMMARY = {
    "sadd": "Puts one or more members into a set, creating the set if needed.",
    "srem": "Takes members out of a set; the key goes away once the set is empty.",
    "scard": "Tells how many members a set has.",
    "sismember": "Tells whether a value belongs to a set.",
    "smismember": "Tells, for each of several values, whether it belongs to a set.",
    "smembers": "Lists every member of a set.",
    "spop": "Removes and returns one or more randomly chosen members of a set.",
    "srandmember": "Returns randomly chosen members of a set without removing them.",
    "smove": "Transfers a member from one set to another.",
    "sinter": "Lists the members that all of the given sets share.",
    "sintercard": "Counts the members that all of the given sets share, optionally stopping at a limit.",
    "sunion": "Lists the members found in any of the given sets.",
    "sdiff": "Lists the members of the first set that none of the other sets have.",
    "sinterstore": "Saves the members shared by all given sets under a destination key.",
    "sunionstore": "Saves the members found in any of the given sets under a destination key.",
    "sdiffstore": "Saves the members of the first set missing from the others under a destination key.",
    "sscan": "Walks the members of a set incrementally with a cursor.",
}
