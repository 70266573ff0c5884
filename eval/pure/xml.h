/* eval/pure/xml.h: the XML writer behind builtins.toXML and --xml.
 *
 * Output is byte-for-byte Nix's: "<?xml version='1.0' encoding='utf-8'?>",
 * two spaces of indentation per level, one element per line, attributes
 * sorted by name (Nix keeps them in a std::map), and attribute values with
 * " < > & and newline escaped (newline as &#xA; so XML readers do not turn
 * it into a space). */
#ifndef STRAYLIGHT_EVAL_PURE_XML_H
#define STRAYLIGHT_EVAL_PURE_XML_H

#include <stddef.h>

#include "util/util.h"

typedef struct ev_xml_attr {
    const char *name;    /* NUL-terminated */
    const char *value;
    size_t vlen;
} ev_xml_attr;

typedef struct ev_xml_writer {
    ut_buf *out;
    size_t depth;
    size_t nopen, capopen;
    char **open;   /* names of open elements */
} ev_xml_writer;

void ev_xml_begin(ev_xml_writer *w, ut_buf *out);   /* writes the header */
/* attrs need not be sorted. */
void ev_xml_open(ev_xml_writer *w, const char *name, const ev_xml_attr *attrs, size_t nattrs);
void ev_xml_short(ev_xml_writer *w, const char *name, const ev_xml_attr *attrs, size_t nattrs);
void ev_xml_close(ev_xml_writer *w);
void ev_xml_end(ev_xml_writer *w);   /* closes what is open, frees the writer */

void ev_xml_escape_attr(const char *s, size_t len, ut_buf *out);

#endif
