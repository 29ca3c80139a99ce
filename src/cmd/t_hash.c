/* t_hash.c -- the hash commands. Being written: no rows yet. */
#include "cmd_rows.h"

cmd_def cmd_rows_hash[] = {
    END,
};
