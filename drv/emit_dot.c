#include <string.h>

#include "drv/emit.h"

static void dot_escape(ut_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') ut_buf_putc(b, '\\');
        if (s[i] == '\n') ut_buf_puts(b, "\\n");
        else ut_buf_putc(b, s[i]);
    }
}

void dv_graph_to_dot(const dv_graph *g, ut_buf *out)
{
    static const char *const fill[] = {"#c8e6c9", "#bbdefb", "#ffcdd2"};   /* pure, pinned, impure */
    ut_buf_puts(out, "digraph actions {\n  rankdir=LR;\n  node [shape=box, style=filled, fontname=\"monospace\"];\n");
    for (size_t i = 0; i < g->n; i++) {
        const dv_node *n = &g->nodes[i];
        dv_class c = dv_grade_class(&n->action.grade);
        ut_buf grade = UT_BUF_INIT;
        dv_grade_describe(&n->action.grade, &grade);
        ut_buf_printf(out, "  n%zu [label=\"", i);
        dot_escape(out, n->drv->name.s, n->drv->name.len);
        ut_buf_puts(out, "\\n");
        dot_escape(out, grade.data, grade.len);
        ut_buf_printf(out, "\", fillcolor=\"%s\", tooltip=\"%s %s\"];\n", fill[c], n->action.digest, dv_class_name(c));
        ut_buf_free(&grade);
    }
    for (size_t i = 0; i < g->n; i++)
        for (size_t k = 0; k < g->nodes[i].ninputs; k++) ut_buf_printf(out, "  n%zu -> n%zu;\n", g->nodes[i].inputs[k], i);
    ut_buf_puts(out, "}\n");
}
