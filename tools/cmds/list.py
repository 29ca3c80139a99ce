"""The list commands percore implements, with one-line summaries in our own
words (read by tools/gen_cmdmeta.py)."""

COMMANDS = [
    ("lpush", None), ("rpush", None), ("lpushx", None), ("rpushx", None),
    ("lpop", None), ("rpop", None), ("llen", None), ("lindex", None),
    ("linsert", None), ("lrange", None), ("lset", None), ("lrem", None),
    ("ltrim", None), ("lpos", None), ("lmove", None), ("rpoplpush", None),
    ("lmpop", None),
]

SUMMARY = {
    "lpush": "Add elements at the head of a list, creating it if needed",
    "rpush": "Add elements at the tail of a list, creating it if needed",
    "lpushx": "Add elements at the head of a list only if it exists",
    "rpushx": "Add elements at the tail of a list only if it exists",
    "lpop": "Take one or more elements off the head of a list",
    "rpop": "Take one or more elements off the tail of a list",
    "llen": "Number of elements in a list",
    "lindex": "Read the element at a position of a list",
    "linsert": "Put an element before or after the first occurrence of a pivot",
    "lrange": "Read the elements between two positions of a list",
    "lset": "Overwrite the element at a position of a list",
    "lrem": "Remove occurrences of an element from a list",
    "ltrim": "Keep only the elements between two positions of a list",
    "lpos": "Find the positions of an element in a list",
    "lmove": "Take an element from one end of a list and put it at an end of another",
    "rpoplpush": "Take the last element of a list and put it at the head of another",
    "lmpop": "Take elements from the first non-empty list among several keys",
}
