/* t_hll.c -- the hll commands. Being written: no rows yet. */
#include "cmd_rows.h"

cmd_def cmd_rows_hll[] = {
    END,
};
