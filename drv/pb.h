/* drv/pb.h: the few protobuf wire-format writers the REv2 export needs.
 * Fields must be written in field-number order for deterministic bytes (the
 * REv2 spec asks for canonical serialisation, since digests name messages). */
#ifndef STRAYLIGHT_DRV_PB_H
#define STRAYLIGHT_DRV_PB_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

void dv_pb_varint(ut_buf *b, uint64_t v);
/* Proto3 omits default values: empty strings, 0 and false write nothing. */
void dv_pb_string(ut_buf *b, uint32_t field, const char *s);
void dv_pb_bytes(ut_buf *b, uint32_t field, const void *p, size_t n);
void dv_pb_uint(ut_buf *b, uint32_t field, uint64_t v);
void dv_pb_bool(ut_buf *b, uint32_t field, bool v);
/* An embedded message, written even when empty (presence matters for
 * message fields such as Action.input_root_digest). */
void dv_pb_message(ut_buf *b, uint32_t field, const ut_buf *msg);

#endif
