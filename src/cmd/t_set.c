/* t_set.c -- the set commands. Being written: no rows yet. */
#include "cmd_rows.h"

cmd_def cmd_rows_set[] = {
    END,
};
