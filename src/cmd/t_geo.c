/* t_geo.c -- the geo commands. Being written: no rows yet. */
#include "cmd_rows.h"

cmd_def cmd_rows_geo[] = {
    END,
};
