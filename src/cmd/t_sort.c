/* t_sort.c -- the sort commands. Being written: no rows yet. */
#include "cmd_rows.h"

cmd_def cmd_rows_sort[] = {
    END,
};
