/* t_zset.c -- the zset commands. Being written: no rows yet. */
#include "cmd_rows.h"

cmd_def cmd_rows_zset[] = {
    END,
};
