/*
 * A small strict JSON parser (RFC 8259) for the C tests: builds a tree, rejects anything
 * malformed (including trailing garbage and bad escapes), and offers dotted-path lookups.
 * Header-only; every function is `static inline` so unused ones do not warn.
 */
#ifndef SYSCOLLECTOR_TEST_JSON_H
#define SYSCOLLECTOR_TEST_JSON_H

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jtype;

typedef struct jnode {
    jtype type;
    bool boolean;
    double number;
    char *string;         /* J_STRING: decoded UTF-8 text, NUL-terminated */
    char *key;            /* member name when the node is inside an object */
    struct jnode *child;  /* first element / member */
    struct jnode *next;   /* next sibling */
} jnode;

typedef struct {
    const char *p;
    int depth;
} jparser;

static inline void json_free(jnode *n) {
    while (n) {
        jnode *next = n->next;
        json_free(n->child);
        free(n->string);
        free(n->key);
        free(n);
        n = next;
    }
}

static inline void j_ws(jparser *ps) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static inline jnode *j_new(jtype t) {
    jnode *n = (jnode *)calloc(1, sizeof(jnode));
    if (n) n->type = t;
    return n;
}

static inline int j_hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static inline size_t j_utf8(unsigned cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string literal at ps->p (which points at the opening quote). */
static inline char *j_string(jparser *ps) {
    if (*ps->p != '"') return NULL;
    ps->p++;
    size_t cap = 16, len = 0;
    char *buf = (char *)malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*ps->p;
        if (len + 5 > cap) {
            cap *= 2;
            char *nb = (char *)realloc(buf, cap);
            if (!nb) { free(buf); return NULL; }
            buf = nb;
        }
        if (c == '"') { ps->p++; break; }
        if (c < 0x20) { free(buf); return NULL; } /* NUL, control characters */
        if (c != '\\') { buf[len++] = (char)c; ps->p++; continue; }
        ps->p++;
        char e = *ps->p++;
        switch (e) {
        case '"': buf[len++] = '"'; break;
        case '\\': buf[len++] = '\\'; break;
        case '/': buf[len++] = '/'; break;
        case 'b': buf[len++] = '\b'; break;
        case 'f': buf[len++] = '\f'; break;
        case 'n': buf[len++] = '\n'; break;
        case 'r': buf[len++] = '\r'; break;
        case 't': buf[len++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!j_hex4(ps->p, &cp)) { free(buf); return NULL; }
            ps->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (ps->p[0] != '\\' || ps->p[1] != 'u' || !j_hex4(ps->p + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF) {
                    free(buf);
                    return NULL;
                }
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(buf);
                return NULL;
            }
            len += j_utf8(cp, buf + len);
            break;
        }
        default: free(buf); return NULL;
        }
    }
    buf[len] = '\0';
    return buf;
}

static inline int j_number(jparser *ps, double *out) {
    const char *s = ps->p;
    if (*s == '-') s++;
    if (*s == '0') s++;
    else if (*s >= '1' && *s <= '9') while (isdigit((unsigned char)*s)) s++;
    else return 0;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s)) return 0;
        while (isdigit((unsigned char)*s)) s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!isdigit((unsigned char)*s)) return 0;
        while (isdigit((unsigned char)*s)) s++;
    }
    *out = strtod(ps->p, NULL);
    ps->p = s;
    return 1;
}

static inline jnode *j_value(jparser *ps);

static inline jnode *j_container(jparser *ps, bool object) {
    jnode *n = j_new(object ? J_OBJECT : J_ARRAY);
    if (!n) return NULL;
    if (++ps->depth > 256) { free(n); return NULL; }
    ps->p++; /* '{' or '[' */
    j_ws(ps);
    char close = object ? '}' : ']';
    jnode **tail = &n->child;
    if (*ps->p == close) { ps->p++; ps->depth--; return n; }
    for (;;) {
        char *key = NULL;
        if (object) {
            j_ws(ps);
            key = j_string(ps);
            if (!key) goto fail;
            j_ws(ps);
            if (*ps->p != ':') { free(key); goto fail; }
            ps->p++;
        }
        jnode *v = j_value(ps);
        if (!v) { free(key); goto fail; }
        v->key = key;
        *tail = v;
        tail = &v->next;
        j_ws(ps);
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == close) { ps->p++; break; }
        goto fail;
    }
    ps->depth--;
    return n;
fail:
    json_free(n);
    return NULL;
}

static inline jnode *j_value(jparser *ps) {
    j_ws(ps);
    char c = *ps->p;
    if (c == '{') return j_container(ps, true);
    if (c == '[') return j_container(ps, false);
    if (c == '"') {
        char *s = j_string(ps);
        if (!s) return NULL;
        jnode *n = j_new(J_STRING);
        if (!n) { free(s); return NULL; }
        n->string = s;
        return n;
    }
    if (strncmp(ps->p, "true", 4) == 0 || strncmp(ps->p, "false", 5) == 0) {
        jnode *n = j_new(J_BOOL);
        if (!n) return NULL;
        n->boolean = c == 't';
        ps->p += n->boolean ? 4 : 5;
        return n;
    }
    if (strncmp(ps->p, "null", 4) == 0) {
        ps->p += 4;
        return j_new(J_NULL);
    }
    double d;
    if (c == '-' || (c >= '0' && c <= '9')) {
        if (!j_number(ps, &d)) return NULL;
        jnode *n = j_new(J_NUMBER);
        if (n) n->number = d;
        return n;
    }
    return NULL;
}

/* Parses a complete document; NULL when `text` is not exactly one JSON value. */
static inline jnode *json_parse(const char *text) {
    if (!text) return NULL;
    jparser ps = {text, 0};
    jnode *n = j_value(&ps);
    if (!n) return NULL;
    j_ws(&ps);
    if (*ps.p != '\0') { json_free(n); return NULL; }
    return n;
}

/* The member `key` of an object (NULL when absent or `obj` is not an object). */
static inline const jnode *json_get(const jnode *obj, const char *key) {
    if (!obj || obj->type != J_OBJECT) return NULL;
    for (const jnode *c = obj->child; c; c = c->next)
        if (strcmp(c->key, key) == 0) return c;
    return NULL;
}

/* Follows a dotted path such as "data.event.type". */
static inline const jnode *json_path(const jnode *root, const char *path) {
    char buf[256];
    size_t n = strlen(path);
    if (n >= sizeof buf) return NULL;
    memcpy(buf, path, n + 1);
    const jnode *cur = root;
    char *save = NULL;
    for (char *part = strtok_r(buf, ".", &save); part && cur; part = strtok_r(NULL, ".", &save))
        cur = json_get(cur, part);
    return cur;
}

/* The string at `path`, or NULL when absent or not a string. */
static inline const char *json_str(const jnode *root, const char *path) {
    const jnode *n = json_path(root, path);
    return n && n->type == J_STRING ? n->string : NULL;
}

/* True and the number at `path` in *out when it is a number. */
static inline bool json_num(const jnode *root, const char *path, double *out) {
    const jnode *n = json_path(root, path);
    if (!n || n->type != J_NUMBER) return false;
    *out = n->number;
    return true;
}

/* Self-test of the parser, so that a broken validator cannot make the tests pass. */
static inline int json_selftest(void) {
    static const char *good[] = {
        "{}", "[]", "0", "-1.5e3", "\"a\\u00e9\\ud83d\\ude00\"", "{\"a\":[1,{\"b\":null}],\"c\":true}",
        " { \"x\" : \"y\" } ",
    };
    static const char *bad[] = {
        "", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "01", "1.", "\"\\x\"", "{\"a\":1} x",
        "{'a':1}", "nul", "\"\\ud800\"", "[1 2]", "-", "{\"a\":\"\x01\"}",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        jnode *n = json_parse(good[i]);
        if (!n) return 0;
        json_free(n);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        jnode *n = json_parse(bad[i]);
        if (n) { json_free(n); return 0; }
    }
    jnode *n = json_parse("{\"data\":{\"event\":{\"type\":\"created\"},\"n\":42}}");
    if (!n) return 0;
    double d = 0;
    int ok = json_str(n, "data.event.type") && strcmp(json_str(n, "data.event.type"), "created") == 0 &&
             json_num(n, "data.n", &d) && d == 42 && !json_str(n, "data.n") && !json_path(n, "data.x.y");
    json_free(n);
    return ok;
}

#endif /* SYSCOLLECTOR_TEST_JSON_H */
