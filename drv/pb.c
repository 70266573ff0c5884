#include "drv/pb.h"

#include <string.h>

enum { WT_VARINT = 0, WT_LEN = 2 };

void dv_pb_varint(ut_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        ut_buf_putc(b, (char)((v & 0x7F) | 0x80));
        v >>= 7;
    }
    ut_buf_putc(b, (char)v);
}

static void tag(ut_buf *b, uint32_t field, int wt)
{
    dv_pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wt);
}

void dv_pb_bytes(ut_buf *b, uint32_t field, const void *p, size_t n)
{
    if (!n) return;
    tag(b, field, WT_LEN);
    dv_pb_varint(b, n);
    ut_buf_append(b, p, n);
}

void dv_pb_string(ut_buf *b, uint32_t field, const char *s)
{
    if (s) dv_pb_bytes(b, field, s, strlen(s));
}

void dv_pb_uint(ut_buf *b, uint32_t field, uint64_t v)
{
    if (!v) return;
    tag(b, field, WT_VARINT);
    dv_pb_varint(b, v);
}

void dv_pb_bool(ut_buf *b, uint32_t field, bool v)
{
    if (v) dv_pb_uint(b, field, 1);
}

void dv_pb_message(ut_buf *b, uint32_t field, const ut_buf *msg)
{
    tag(b, field, WT_LEN);
    dv_pb_varint(b, msg->len);
    if (msg->len) ut_buf_append(b, msg->data, msg->len);
}
