/* resp_inline.h -- where the arguments of an inline request live.
 *
 * resp.h promises that argument spans are offsets into the caller's buffer.
 * That cannot hold for inline requests ("SET k \"a\\x41\"\r\n"): their
 * arguments are unescaped, so the bytes differ from the input. For those
 * requests (p->inline_req != 0 after RESP_OK) the parser writes the unescaped
 * arguments into a scratch buffer it owns, and the spans are offsets into that
 * scratch buffer instead. Multibulk spans always refer to the caller's buffer.
 * Pure code; runs on whichever thread owns the parser.
 */
#ifndef PERCORE_RESP_INLINE_H
#define PERCORE_RESP_INLINE_H

#include "resp/resp.h"

/* The scratch buffer that the spans of the last inline request refer to.
 * Valid after a RESP_OK with p->inline_req set, until the next resp_parse,
 * resp_parser_reset or resp_parser_free. Owned by the parser. NULL when the
 * parser has never parsed an inline request with arguments. */
const char *resp_inline_base(const resp_parser *p);

/* The base to add span offsets to after a RESP_OK: the scratch buffer for an
 * inline request, else `buf` (the buffer that was passed to resp_parse). */
const char *resp_args_base(const resp_parser *p, const char *buf);

#endif
