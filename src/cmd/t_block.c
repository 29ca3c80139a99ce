/* t_block.c -- the blocking list and sorted-set commands. Being written: no rows yet. */
#include "cmd_rows.h"

cmd_def cmd_rows_block[] = {
    END,
};
