/* t_list.c -- the list commands. Being written: no rows yet. */
#include "cmd_rows.h"

cmd_def cmd_rows_list[] = {
    END,
};
