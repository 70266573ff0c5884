#include "eval/pure/xml.h"

#include <stdlib.h>
#include <string.h>

void ev_xml_escape_attr(const char *s, size_t len, ut_buf *out)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        switch (c) {
        case '"': ut_buf_puts(out, "&quot;"); break;
        case '<': ut_buf_puts(out, "&lt;"); break;
        case '>': ut_buf_puts(out, "&gt;"); break;
        case '&': ut_buf_puts(out, "&amp;"); break;
        case '\n': ut_buf_puts(out, "&#xA;"); break;
        default: ut_buf_putc(out, c);
        }
    }
}

void ev_xml_begin(ev_xml_writer *w, ut_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    ut_buf_puts(out, "<?xml version='1.0' encoding='utf-8'?>\n");
}

static void indent(ev_xml_writer *w)
{
    for (size_t i = 0; i < w->depth; i++)
        ut_buf_puts(w->out, "  ");
}

static void write_attrs(ev_xml_writer *w, const ev_xml_attr *attrs, size_t n)
{
    const ev_xml_attr *stack[16];
    const ev_xml_attr **sorted = n <= 16 ? stack : ut_xmalloc(n * sizeof *sorted);
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && strcmp(sorted[j - 1]->name, attrs[i].name) > 0) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = &attrs[i];
    }
    for (size_t i = 0; i < n; i++) {
        ut_buf_printf(w->out, " %s=\"", sorted[i]->name);
        ev_xml_escape_attr(sorted[i]->value, sorted[i]->vlen, w->out);
        ut_buf_putc(w->out, '"');
    }
    if (sorted != stack)
        free(sorted);
}

void ev_xml_open(ev_xml_writer *w, const char *name, const ev_xml_attr *attrs, size_t nattrs)
{
    indent(w);
    ut_buf_printf(w->out, "<%s", name);
    write_attrs(w, attrs, nattrs);
    ut_buf_puts(w->out, ">\n");
    if (w->nopen == w->capopen) {
        w->capopen = w->capopen ? w->capopen * 2 : 8;
        w->open = ut_xrealloc(w->open, w->capopen * sizeof *w->open);
    }
    w->open[w->nopen++] = ut_xstrdup(name);
    w->depth++;
}

void ev_xml_short(ev_xml_writer *w, const char *name, const ev_xml_attr *attrs, size_t nattrs)
{
    indent(w);
    ut_buf_printf(w->out, "<%s", name);
    write_attrs(w, attrs, nattrs);
    ut_buf_puts(w->out, " />\n");
}

void ev_xml_close(ev_xml_writer *w)
{
    if (w->nopen == 0)
        return;
    w->depth--;
    indent(w);
    char *name = w->open[--w->nopen];
    ut_buf_printf(w->out, "</%s>\n", name);
    free(name);
}

void ev_xml_end(ev_xml_writer *w)
{
    while (w->nopen)
        ev_xml_close(w);
    free(w->open);
    w->open = NULL;
    w->capopen = 0;
}
