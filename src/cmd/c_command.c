/* c_command.c -- the COMMAND command: COMMAND, COUNT, INFO, DOCS, LIST,
 * GETKEYS and HELP, with replies shaped as Redis 7.0 shapes them in RESP2
 * and RESP3.
 *
 * Every subcommand is routed CMD_ROUTE_LOCAL: it runs on the connection's
 * shard and reads only the command table and the generated, read-only
 * facts of cmd_meta_data.c, so any shard thread may run it. Replies go into
 * ctx->reply, whose protocol version decides maps, sets and nulls.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "cmd_meta.h"
#include "handlers.h"

/* Command flag names, in the order Redis lists them. */
static const struct {
    uint64_t bit;
    const char *name;
} cmd_flag_names[] = {
    {CMD_WRITE, "write"},
    {CMD_READONLY, "readonly"},
    {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},
    {CMD_PUBSUB, "pubsub"},
    {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"},
    {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_ASKING, "asking"},
    {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},
    {CMD_MAY_REPLICATE, "may_replicate"},
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
    {CMD_NO_ASYNC_LOADING, "no_async_loading"},
    {CMD_NO_MULTI, "no_multi"},
    {CMD_MOVABLE_KEYS, "movablekeys"},
    {CMD_ALLOW_BUSY, "allow_busy"},
};

/* ACL category names, indexed by CMD_ACL_*. */
static const char *const cmd_acl_names[CMD_ACL_NCATS] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting",
};

/* Key-spec flag names, indexed by bit number of CMD_KS_*. */
static const char *const cmd_ks_names[] = {
    "RO",     "RW",     "OW",      "RM",         "access",         "update",
    "insert", "delete", "not_key", "incomplete", "variable_flags",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int popcount64(uint64_t v) {
    return __builtin_popcountll(v);
}

/* Writes the bulk "name" or "parent|name". */
static void rw_fullname(rbuf *r, const cmd_def *c) {
    char buf[64];
    rw_bulk_cstr(r, cmd_fullname(c, buf, sizeof(buf)));
}

static int cmd_nsubs(const cmd_def *c) {
    int n = 0;
    for (const cmd_def *s = c->subs; s && s->name; s++)
        n++;
    return n;
}

static void reply_cmd_flags(rbuf *r, uint64_t flags) {
    int n = 0;
    for (size_t i = 0; i < NELEM(cmd_flag_names); i++)
        n += (flags & cmd_flag_names[i].bit) != 0;
    rw_set(r, n);
    for (size_t i = 0; i < NELEM(cmd_flag_names); i++)
        if (flags & cmd_flag_names[i].bit) rw_simple(r, cmd_flag_names[i].name);
}

static void reply_acl(rbuf *r, uint64_t acl) {
    char buf[32];
    rw_set(r, popcount64(acl));
    for (int i = 0; i < CMD_ACL_NCATS; i++) {
        if (acl & CMD_ACL_BIT(i)) {
            buf[0] = '@';
            strcpy(buf + 1, cmd_acl_names[i]);
            rw_simple(r, buf);
        }
    }
}

static void reply_tips(rbuf *r, const char *const *tips) {
    int n = 0;
    while (tips && tips[n])
        n++;
    rw_set(r, n);
    for (int i = 0; i < n; i++)
        rw_bulk_cstr(r, tips[i]);
}

static void reply_keyspec(rbuf *r, const cmd_keyspec *ks) {
    rw_map(r, ks->notes ? 4 : 3);
    if (ks->notes) {
        rw_bulk_cstr(r, "notes");
        rw_bulk_cstr(r, ks->notes);
    }
    rw_bulk_cstr(r, "flags");
    rw_set(r, popcount64(ks->flags));
    for (size_t i = 0; i < NELEM(cmd_ks_names); i++)
        if (ks->flags & (1u << i)) rw_simple(r, cmd_ks_names[i]);

    rw_bulk_cstr(r, "begin_search");
    rw_map(r, 2);
    rw_bulk_cstr(r, "type");
    if (ks->bs_type == CMD_BS_INDEX) {
        rw_bulk_cstr(r, "index");
        rw_bulk_cstr(r, "spec");
        rw_map(r, 1);
        rw_bulk_cstr(r, "index");
        rw_int(r, ks->bs_index);
    } else if (ks->bs_type == CMD_BS_KEYWORD) {
        rw_bulk_cstr(r, "keyword");
        rw_bulk_cstr(r, "spec");
        rw_map(r, 2);
        rw_bulk_cstr(r, "keyword");
        rw_bulk_cstr(r, ks->bs_keyword);
        rw_bulk_cstr(r, "startfrom");
        rw_int(r, ks->bs_startfrom);
    } else {
        rw_bulk_cstr(r, "unknown");
        rw_bulk_cstr(r, "spec");
        rw_map(r, 0);
    }

    rw_bulk_cstr(r, "find_keys");
    rw_map(r, 2);
    rw_bulk_cstr(r, "type");
    if (ks->fk_type == CMD_FK_RANGE) {
        rw_bulk_cstr(r, "range");
        rw_bulk_cstr(r, "spec");
        rw_map(r, 3);
        rw_bulk_cstr(r, "lastkey");
        rw_int(r, ks->fk_a);
        rw_bulk_cstr(r, "keystep");
        rw_int(r, ks->fk_b);
        rw_bulk_cstr(r, "limit");
        rw_int(r, ks->fk_c);
    } else if (ks->fk_type == CMD_FK_KEYNUM) {
        rw_bulk_cstr(r, "keynum");
        rw_bulk_cstr(r, "spec");
        rw_map(r, 3);
        rw_bulk_cstr(r, "keynumidx");
        rw_int(r, ks->fk_a);
        rw_bulk_cstr(r, "firstkey");
        rw_int(r, ks->fk_b);
        rw_bulk_cstr(r, "keystep");
        rw_int(r, ks->fk_c);
    } else {
        rw_bulk_cstr(r, "unknown");
        rw_bulk_cstr(r, "spec");
        rw_map(r, 0);
    }
}

/* COMMAND INFO's entry: name, arity, flags, first key, last key, step,
 * ACL categories, tips, key specs, subcommands. */
void cmd_reply_info(rbuf *r, const cmd_def *c) {
    const cmd_meta *m = c->meta;
    rw_array(r, 10);
    rw_fullname(r, c);
    rw_int(r, c->arity);
    reply_cmd_flags(r, c->flags);
    rw_int(r, c->first_key);
    rw_int(r, c->last_key);
    rw_int(r, c->key_step);
    reply_acl(r, m ? m->acl : 0);
    reply_tips(r, m ? m->tips : NULL);
    int nks = m ? m->nkeyspecs : 0;
    rw_set(r, nks);
    for (int i = 0; i < nks; i++)
        reply_keyspec(r, &m->keyspecs[i]);
    /* Redis writes an empty set when there are no subcommands, an array
     * otherwise. */
    int nsubs = cmd_nsubs(c);
    if (nsubs)
        rw_array(r, nsubs);
    else
        rw_set(r, 0);
    for (const cmd_def *s = c->subs; s && s->name; s++)
        cmd_reply_info(r, s);
}

static void reply_args(rbuf *r, const cmd_arg *args, int nargs) {
    rw_array(r, nargs);
    for (int i = 0; i < nargs; i++) {
        const cmd_arg *a = &args[i];
        int n = 2 + (a->key_spec_index >= 0) + (a->token != NULL) + (a->since != NULL) +
                (a->deprecated_since != NULL) + (a->flags != 0) + (a->nargs > 0);
        rw_map(r, n);
        rw_bulk_cstr(r, "name");
        rw_bulk_cstr(r, a->name);
        rw_bulk_cstr(r, "type");
        rw_bulk_cstr(r, a->type);
        if (a->key_spec_index >= 0) {
            rw_bulk_cstr(r, "key_spec_index");
            rw_int(r, a->key_spec_index);
        }
        if (a->token) {
            rw_bulk_cstr(r, "token");
            rw_bulk_cstr(r, a->token);
        }
        if (a->since) {
            rw_bulk_cstr(r, "since");
            rw_bulk_cstr(r, a->since);
        }
        if (a->deprecated_since) {
            rw_bulk_cstr(r, "deprecated_since");
            rw_bulk_cstr(r, a->deprecated_since);
        }
        if (a->flags) {
            rw_bulk_cstr(r, "flags");
            rw_set(r, popcount64(a->flags));
            if (a->flags & CMD_ARG_OPTIONAL) rw_simple(r, "optional");
            if (a->flags & CMD_ARG_MULTIPLE) rw_simple(r, "multiple");
            if (a->flags & CMD_ARG_MULTIPLE_TOKEN) rw_simple(r, "multiple_token");
        }
        if (a->nargs > 0) {
            rw_bulk_cstr(r, "arguments");
            reply_args(r, a->args, a->nargs);
        }
    }
}

static void rw_field(rbuf *r, const char *key, const char *val) {
    rw_bulk_cstr(r, key);
    rw_bulk_cstr(r, val);
}

/* COMMAND DOCS's value for one command: a map of the documentation fields
 * that are set, in Redis's order, then its subcommands' docs. */
void cmd_reply_docs(rbuf *r, const cmd_def *c) {
    static const cmd_meta empty;
    const cmd_meta *m = c->meta ? c->meta : &empty;
    int nsubs = cmd_nsubs(c);
    int n = (m->summary != NULL) + (m->since != NULL) + (m->group != NULL) +
            (m->complexity != NULL) + (m->doc_flags != 0) + (m->deprecated_since != NULL) +
            (m->replaced_by != NULL) + (m->nhistory > 0) + (m->nargs > 0) + (nsubs > 0);
    rw_map(r, n);
    if (m->summary) rw_field(r, "summary", m->summary);
    if (m->since) rw_field(r, "since", m->since);
    if (m->group) rw_field(r, "group", m->group);
    if (m->complexity) rw_field(r, "complexity", m->complexity);
    if (m->doc_flags) {
        rw_bulk_cstr(r, "doc_flags");
        rw_set(r, popcount64(m->doc_flags));
        if (m->doc_flags & CMD_DOC_DEPRECATED) rw_simple(r, "deprecated");
        if (m->doc_flags & CMD_DOC_SYSCMD) rw_simple(r, "syscmd");
    }
    if (m->deprecated_since) rw_field(r, "deprecated_since", m->deprecated_since);
    if (m->replaced_by) rw_field(r, "replaced_by", m->replaced_by);
    if (m->nhistory > 0) {
        rw_bulk_cstr(r, "history");
        rw_set(r, m->nhistory);
        for (int i = 0; i < m->nhistory; i++) {
            rw_array(r, 2);
            rw_bulk_cstr(r, m->history[i].version);
            rw_bulk_cstr(r, m->history[i].change);
        }
    }
    if (m->nargs > 0) {
        rw_bulk_cstr(r, "arguments");
        reply_args(r, m->args, m->nargs);
    }
    if (nsubs > 0) {
        rw_bulk_cstr(r, "subcommands");
        rw_map(r, nsubs);
        for (const cmd_def *s = c->subs; s->name; s++) {
            rw_fullname(r, s);
            cmd_reply_docs(r, s);
        }
    }
}

/* Find a command by the name COMMAND INFO/DOCS take: "get" or
 * "client|list", any case. NULL if unknown. */
static const cmd_def *lookup_fullname(const rt_arg *a) {
    const char *bar = memchr(a->p, '|', a->len);
    if (!bar) return cmd_lookup(a->p, a->len);
    const cmd_def *parent = cmd_lookup(a->p, (size_t)(bar - a->p));
    const char *sub = bar + 1;
    size_t sublen = a->len - (size_t)(sub - a->p);
    if (!parent || memchr(sub, '|', sublen)) return NULL;
    return cmd_lookup_sub(parent, sub, sublen);
}

static int count_top(void) {
    int n = 0;
    for (const cmd_def *const *c = cmd_all(); *c; c++)
        n++;
    return n;
}

void cmd_command(rt_ctx *c) {
    rw_array(c->reply, count_top());
    for (const cmd_def *const *cmd = cmd_all(); *cmd; cmd++)
        cmd_reply_info(c->reply, *cmd);
}

void cmd_command_count(rt_ctx *c) {
    rw_int(c->reply, count_top());
}

void cmd_command_info(rt_ctx *c) {
    if (c->argc <= 2) {
        cmd_command(c);
        return;
    }
    rw_array(c->reply, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        const cmd_def *cmd = lookup_fullname(&c->argv[i]);
        if (cmd)
            cmd_reply_info(c->reply, cmd);
        else
            rw_null(c->reply);
    }
}

void cmd_command_docs(rt_ctx *c) {
    rbuf *r = c->reply;
    if (c->argc <= 2) {
        rw_map(r, count_top());
        for (const cmd_def *const *cmd = cmd_all(); *cmd; cmd++) {
            rw_fullname(r, *cmd);
            cmd_reply_docs(r, *cmd);
        }
        return;
    }
    int n = 0;
    for (int i = 2; i < c->argc; i++)
        n += lookup_fullname(&c->argv[i]) != NULL;
    rw_map(r, n);
    for (int i = 2; i < c->argc; i++) {
        const cmd_def *cmd = lookup_fullname(&c->argv[i]);
        if (cmd) {
            rw_fullname(r, cmd);
            cmd_reply_docs(r, cmd);
        }
    }
}

enum { LIST_ALL, LIST_MODULE, LIST_ACLCAT, LIST_PATTERN };

/* Whether COMMAND LIST's filter keeps command c. */
static int list_keeps(const cmd_def *c, int kind, const rt_arg *arg, int acl_cat) {
    char buf[64];
    switch (kind) {
    case LIST_ALL:
        return 1;
    case LIST_MODULE:
        return 0; /* no command of ours comes from a module */
    case LIST_ACLCAT:
        return acl_cat >= 0 && c->meta && (c->meta->acl & CMD_ACL_BIT(acl_cat));
    default:
        cmd_fullname(c, buf, sizeof(buf));
        return util_globmatch(arg->p, arg->len, buf, strlen(buf), 1);
    }
}

/* Walk every command and subcommand; count those kept, or write their
 * names when r is not NULL. */
static int list_walk(rbuf *r, int kind, const rt_arg *arg, int acl_cat) {
    int n = 0;
    for (const cmd_def *const *top = cmd_all(); *top; top++) {
        if (list_keeps(*top, kind, arg, acl_cat)) {
            n++;
            if (r) rw_fullname(r, *top);
        }
        for (const cmd_def *s = (*top)->subs; s && s->name; s++) {
            if (list_keeps(s, kind, arg, acl_cat)) {
                n++;
                if (r) rw_fullname(r, s);
            }
        }
    }
    return n;
}

void cmd_command_list(rt_ctx *c) {
    int kind = LIST_ALL, acl_cat = -1;
    const rt_arg *arg = NULL;
    if (c->argc == 5 && arg_is(&c->argv[2], "filterby")) {
        arg = &c->argv[4];
        if (arg_is(&c->argv[3], "module")) {
            kind = LIST_MODULE;
        } else if (arg_is(&c->argv[3], "aclcat")) {
            kind = LIST_ACLCAT;
            for (int i = 0; i < CMD_ACL_NCATS; i++)
                if (arg_is(arg, cmd_acl_names[i])) acl_cat = i;
        } else if (arg_is(&c->argv[3], "pattern")) {
            kind = LIST_PATTERN;
        } else {
            rw_error(c->reply, ERR_SYNTAX);
            return;
        }
    } else if (c->argc != 2) {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    rw_array(c->reply, list_walk(NULL, kind, arg, acl_cat));
    list_walk(c->reply, kind, arg, acl_cat);
}

/* Fills keys[] (room for argc) with the argv indexes of c's keys by its
 * legacy key range, as Redis evaluates an index+range key spec: positions
 * past the end are skipped. Returns how many. */
static int range_keys(const cmd_def *c, int argc, int *keys) {
    int first = c->first_key, step = c->key_step > 0 ? c->key_step : 1;
    int last = c->last_key >= 0 ? c->last_key : argc + c->last_key;
    int n = 0;
    for (int i = first; i <= last; i += step) {
        if (i >= argc) continue;
        keys[n++] = i;
    }
    return n;
}

void cmd_reply_getkeys(rbuf *r, int argc, rt_arg *argv) {
    const cmd_def *c = argc > 0 ? cmd_lookup(argv[0].p, argv[0].len) : NULL;
    if (c && c->subs && argc >= 2) c = cmd_lookup_sub(c, argv[1].p, argv[1].len);
    if (!c) {
        rw_error(r, "ERR Invalid command specified");
        return;
    }
    if (c->first_key <= 0 && !c->getkeys) {
        rw_error(r, "ERR The command has no key arguments");
        return;
    }
    if ((c->arity > 0 && c->arity != argc) || argc < -c->arity) {
        rw_error(r, "ERR Invalid number of arguments specified for command");
        return;
    }
    int stackbuf[64];
    int *keys = argc <= (int)NELEM(stackbuf) ? stackbuf : malloc(sizeof(int) * (size_t)argc);
    if (!keys) abort();
    /* The legacy range equals what Redis derives from the key specs; a
     * getkeys function is needed only when the range cannot say it. */
    int n;
    if (c->getkeys && (c->first_key <= 0 || (c->flags & CMD_MOVABLE_KEYS))) {
        rbuf err;
        rb_init(&err, r->resp);
        n = c->getkeys(argc, argv, keys, &err);
        rb_free(&err);
    } else {
        n = range_keys(c, argc, keys);
    }
    if (n <= 0) {
        if (c->flags & CMD_NO_MANDATORY_KEYS)
            rw_array(r, 0);
        else
            rw_error(r, "ERR Invalid arguments specified for command");
    } else {
        rw_array(r, n);
        for (int i = 0; i < n; i++)
            rw_bulk(r, argv[keys[i]].p, argv[keys[i]].len);
    }
    if (keys != stackbuf) free(keys);
}

void cmd_command_getkeys(rt_ctx *c) {
    cmd_reply_getkeys(c->reply, c->argc - 2, c->argv + 2);
}

void cmd_command_help(rt_ctx *c) {
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    };
    rw_array(c->reply, (long)NELEM(lines));
    for (size_t i = 0; i < NELEM(lines); i++)
        rw_simple(c->reply, lines[i]);
}
