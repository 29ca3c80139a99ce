# hll.py -- the HyperLogLog commands percore implements, for tools/gen_cmdmeta.py.
COMMANDS = [("pfadd", None), ("pfcount", None), ("pfmerge", None)]

SUMMARY = {
    "pfadd": "Adds elements to a HyperLogLog, creating the key when it is missing.",
    "pfcount": "Estimates how many distinct elements the union of one or more HyperLogLogs has seen.",
    "pfmerge": "Folds several HyperLogLogs into a destination HyperLogLog.",
}
