/* Positions in messages, laid out as Nix lays them out: the origin, then
 * the line before, the line itself with a caret under the column, and the
 * line after. */
#include "parser/internal.h"

#include <string.h>

void ps_format_pos(ut_buf *out, ps_pos pos)
{
    if (!pos.src) {
        ut_buf_puts(out, "«none»");
        return;
    }
    switch (pos.src->origin) {
    case PS_ORIGIN_FILE:
        ut_buf_puts(out, pos.src->path ? pos.src->path : "");
        break;
    case PS_ORIGIN_STDIN:
        ut_buf_puts(out, "«stdin»");
        break;
    case PS_ORIGIN_STRING:
        ut_buf_puts(out, "«string»");
        break;
    }
    ut_buf_printf(out, ":%u:%u", pos.line, pos.col);
}

/* Finds line `line` (1-based) of text, where CR, LF and CR LF end lines;
 * false if the text has fewer lines. */
static const char *line_end(const char *p, const char *end)
{
    while (p < end && *p != '\n' && *p != '\r')
        p++;
    return p;
}

static bool find_line(const ps_source *src, uint32_t line, const char **start, size_t *len)
{
    if (line == 0)
        return false;
    const char *p = src->text, *end = src->text + src->len;
    for (uint32_t l = 1; l < line; l++) {
        const char *e = line_end(p, end);
        if (e == end)
            return false;
        p = e + ((*e == '\r' && e + 1 < end && e[1] == '\n') ? 2 : 1);
    }
    *start = p;
    *len = (size_t)(line_end(p, end) - p);
    return true;
}

/* Nix trims trailing whitespace off every line of a message. */
static void code_line(ut_buf *out, unsigned indent, uint32_t no, const char *s, size_t len)
{
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    ut_buf_printf(out, "\n%*s%5u|", (int)(indent + 8), "", no);
    if (len) {
        ut_buf_putc(out, ' ');
        /* messages are C strings: a NUL byte travels as C0 80 (as in
         * "modified UTF-8"), which ps_log_filter turns back into NUL */
        for (size_t i = 0; i < len; i++) {
            if (s[i])
                ut_buf_putc(out, s[i]);
            else
                ut_buf_puts(out, "\xc0\x80");
        }
    }
}

void ps__format_snippet(ut_buf *out, ps_pos pos, unsigned indent)
{
    ut_buf_printf(out, "%*sat ", (int)(indent + 7), "");
    ps_format_pos(out, pos);
    ut_buf_putc(out, ':');
    if (!pos.src || !pos.src->text)
        return;
    const char *s;
    size_t len;
    if (pos.line > 1 && find_line(pos.src, pos.line - 1, &s, &len))
        code_line(out, indent, pos.line - 1, s, len);
    if (find_line(pos.src, pos.line, &s, &len)) {
        code_line(out, indent, pos.line, s, len);
        ut_buf_printf(out, "\n%*s|%*s^", (int)(indent + 13), "", (int)pos.col, "");
    }
    if (find_line(pos.src, pos.line + 1, &s, &len))
        code_line(out, indent, pos.line + 1, s, len);
}

void ps_format_pos_snippet(ut_buf *out, ps_pos pos)
{
    ps__format_snippet(out, pos, 0);
}

void ps_format_pos_snippet_indent(ut_buf *out, ps_pos pos, unsigned indent)
{
    ps__format_snippet(out, pos, indent);
}

void ps_log_filter(ut_buf *out, const char *s, size_t len)
{
    size_t w = 0;   /* characters so far, for tab stops; newlines count */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xc0 && i + 1 < len && (unsigned char)s[i + 1] == 0x80) {
            /* a NUL byte of quoted source (see code_line) */
            i++;
            w++;
            ut_buf_putc(out, '\0');
        } else if (c == '\t') {
            do {
                w++;
                ut_buf_putc(out, ' ');
            } while (w % 8);
        } else if (c == '\r' || c == '\a') {
            continue;
        } else {
            if ((c & 0xc0) != 0x80)
                w++;
            ut_buf_putc(out, (char)c);
        }
    }
}
