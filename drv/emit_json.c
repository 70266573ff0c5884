#include <string.h>

#include "drv/cjson.h"
#include "drv/emit.h"

static json_t *node_json(const dv_graph *g, const dv_node *n, bool with_action)
{
    json_t *o = json_object();
    json_object_set_new(o, "digest", json_string(n->action.digest));
    json_object_set_new(o, "drvPath", json_string(n->drv_path));
    json_object_set_new(o, "name", json_stringn(n->drv->name.s, n->drv->name.len));
    json_object_set_new(o, "class", json_string(dv_class_name(dv_grade_class(&n->action.grade))));
    json_object_set_new(o, "grade", dv_grade_to_json(&n->action.grade));
    json_object_set_new(o, "taint", dv_grade_to_json(&n->taint));
    json_t *ins = json_array();
    for (size_t i = 0; i < n->ninputs; i++) {
        const dv_node *in = &g->nodes[n->inputs[i]];
        json_t *outs = json_array();
        const nc_drv_input *di = &n->drv->inputs[i];
        for (size_t k = 0; k < di->node.noutputs; k++)
            json_array_append_new(outs, json_stringn(di->node.outputs[k].s, di->node.outputs[k].len));
        json_array_append_new(ins, json_pack("{s:s,s:s,s:o}", "digest", in->action.digest, "drvPath", in->drv_path,
                                             "outputs", outs));
    }
    json_t *inputs = json_object_get(n->action.json, "inputs");
    json_object_set_new(o, "inputs", json_pack("{s:o,s:O}", "actions", ins, "sources", json_object_get(inputs, "sources")));
    json_object_set(o, "outputs", json_object_get(n->action.json, "outputs"));
    if (with_action) json_object_set(o, "action", n->action.json);
    return o;
}

static json_t *graph_json(const dv_graph *g, bool with_actions)
{
    json_t *doc = json_object(), *acts = json_array(), *roots = json_array(), *taint = json_object();
    size_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < g->n; i++) {
        if (with_actions) json_array_append_new(acts, node_json(g, &g->nodes[i], true));
        counts[dv_grade_class(&g->nodes[i].action.grade)]++;
    }
    for (size_t i = 0; i < g->nroots; i++) {
        const dv_node *r = &g->nodes[g->roots[i]];
        json_array_append_new(roots, json_pack("{s:s,s:s}", "digest", r->action.digest, "drvPath", r->drv_path));
        json_object_set_new(taint, r->drv_path, dv_grade_to_json(&r->taint));
    }
    json_object_set_new(doc, "version", json_integer(1));
    json_object_set_new(doc, "roots", roots);
    json_object_set_new(doc, "actions", acts);
    json_object_set_new(doc, "closure",
                        json_pack("{s:o,s:o,s:{s:I,s:I,s:I,s:I}}", "join", dv_grade_to_json(&g->join), "taint", taint,
                                  "counts", "actions", (json_int_t)g->n, "pure", (json_int_t)counts[DV_CLASS_PURE],
                                  "pinned", (json_int_t)counts[DV_CLASS_PINNED], "impure",
                                  (json_int_t)counts[DV_CLASS_IMPURE]));
    return doc;
}

json_t *dv_graph_to_json(const dv_graph *g)
{
    return graph_json(g, true);
}

static json_t *dv_graph_to_json_shell(const dv_graph *g)
{
    return graph_json(g, false);
}

static bool put(ut_buf *out, const json_t *v, ut_err *e)
{
    return dv_cjson_write(v, out, e);
}

bool dv_graph_write_json(const dv_graph *g, ut_buf *out, ut_err *e)
{
    /* The document of dv_graph_to_json, written piecewise so the large
     * action objects are copied from their canonical bytes, not re-encoded. */
    json_t *doc = dv_graph_to_json_shell(g);
    bool ok = true;
    ut_buf_puts(out, "{\"version\":1,\"roots\":");
    ok = put(out, json_object_get(doc, "roots"), e);
    ut_buf_puts(out, ",\"closure\":");
    ok = ok && put(out, json_object_get(doc, "closure"), e);
    ut_buf_puts(out, ",\"actions\":[\n");
    for (size_t i = 0; ok && i < g->n; i++) {
        json_t *o = node_json(g, &g->nodes[i], false);
        ut_buf part = UT_BUF_INIT;
        ok = put(&part, o, e);
        json_decref(o);
        if (ok) {
            /* replace the closing brace with the action member */
            part.len--;
            ut_buf_append(out, part.data, part.len);
            ut_buf_puts(out, ",\"action\":");
            ut_buf_append(out, g->nodes[i].action.canonical, g->nodes[i].action.canonical_len);
            ut_buf_puts(out, i + 1 < g->n ? "},\n" : "}\n");
        }
        ut_buf_free(&part);
    }
    ut_buf_puts(out, "]}\n");
    json_decref(doc);
    return ok;
}
