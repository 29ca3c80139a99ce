# geo.py -- the GEO commands percore implements, for tools/gen_cmdmeta.py.
COMMANDS = [
    ("geoadd", None), ("geodist", None), ("geohash", None), ("geopos", None),
    ("georadius", None), ("georadiusbymember", None), ("georadius_ro", None),
    ("georadiusbymember_ro", None), ("geosearch", None), ("geosearchstore", None),
]

SUMMARY = {
    "geoadd": "Stores points given by longitude and latitude as members of a geospatial sorted set.",
    "geodist": "Measures the distance between two members of a geospatial set.",
    "geohash": "Gives the standard 11-character geohash of members of a geospatial set.",
    "geopos": "Gives the longitude and latitude of members of a geospatial set.",
    "georadius": "Finds members within a radius of a point, optionally saving them to a key.",
    "georadiusbymember": "Finds members within a radius of another member, optionally saving them to a key.",
    "georadius_ro": "Finds members within a radius of a point (read-only form).",
    "georadiusbymember_ro": "Finds members within a radius of another member (read-only form).",
    "geosearch": "Finds members inside a circle or a box around a point or a member.",
    "geosearchstore": "Finds members inside a circle or a box and saves them to a key.",
}
