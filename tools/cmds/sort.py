# sort.py -- the sort commands percore implements, for tools/gen_cmdmeta.py.
COMMANDS = [("sort", None), ("sort_ro", None)]

SUMMARY = {
    "sort": "Orders the members of a list, set or sorted set, optionally by other keys' values, "
            "fetching other keys per member and saving the result as a list.",
    "sort_ro": "The read-only form of SORT: orders a list, set or sorted set without a STORE "
               "destination.",
}
