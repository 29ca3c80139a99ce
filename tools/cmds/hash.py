"""hash.py -- the hash commands percore implements (src/cmd/t_hash.c), for
tools/gen_cmdmeta.py: COMMANDS lists them, SUMMARY holds our one-line
descriptions."""

COMMANDS = [
    ("hset", None), ("hsetnx", None), ("hget", None), ("hmget", None), ("hmset", None),
    ("hdel", None), ("hexists", None), ("hlen", None), ("hstrlen", None), ("hincrby", None),
    ("hincrbyfloat", None), ("hkeys", None), ("hvals", None), ("hgetall", None),
    ("hscan", None), ("hrandfield", None),
]

SUMMARY = {
    "hset": "Sets one or more fields of a hash to the given values, creating the hash if needed.",
    "hsetnx": "Sets a hash field only when that field does not exist yet.",
    "hget": "Returns the value stored in one field of a hash.",
    "hmget": "Returns the values of several hash fields at once.",
    "hmset": "Sets several hash fields at once (older form of HSET that replies OK).",
    "hdel": "Removes fields from a hash; the key goes away with its last field.",
    "hexists": "Tells whether a field is present in a hash.",
    "hlen": "Returns how many fields a hash holds.",
    "hstrlen": "Returns the byte length of a hash field's value.",
    "hincrby": "Adds an integer to the integer value of a hash field.",
    "hincrbyfloat": "Adds a floating point number to the numeric value of a hash field.",
    "hkeys": "Returns every field name of a hash.",
    "hvals": "Returns every value of a hash.",
    "hgetall": "Returns every field and value of a hash.",
    "hscan": "Walks the fields and values of a hash incrementally with a cursor.",
    "hrandfield": "Returns random fields of a hash, optionally with their values.",
}
