/* SPDX-License-Identifier: MIT */
/* The hello: the first line a peer sends, with its version. */
#include "proto/internal.h"

#include <errno.h>
#include <string.h>

int proto_hello_encode(json_t *obj, const struct dhp_proto_hello *hello)
{
	json_t *caps = json_array();
	int r = caps ? 0 : -ENOMEM;

	if (!r)
		r = pj_set(obj, "version", json_integer(hello->version));
	if (!r && hello->agent[0])
		r = pj_set(obj, "agent", pj_text(hello->agent));
	if (!r && hello->kernel[0])
		r = pj_set(obj, "kernel", pj_text(hello->kernel));
	if (!r && hello->profile[0])
		r = pj_set(obj, "profile", pj_text(hello->profile));
	for (unsigned i = 0; !r && i < DHP_PROTO_CAP_COUNT; i++) {
		if (hello->caps & (1u << i))
			r = json_array_append_new(caps, json_string(dhp_proto_cap_name(1u << i)))
				    ? -ENOMEM : 0;
	}
	if (!r) {
		r = pj_set(obj, "capabilities", caps);
		caps = NULL;
	}
	json_decref(caps);
	return r;
}

/* The version first: a newer peer's hello may have another shape, and the
 * clear answer is "too new", not whatever else fails to decode. */
static int version_decode(json_t *root, uint32_t *ret_version, struct dhp_error *err)
{
	int64_t v;
	int r;

	r = pj_need(pj_int(root, "hello", "version", 1, INT32_MAX, &v, err), "hello",
		    "version", err);
	if (r < 0)
		return r;
	if (v > DHP_PROTO_VERSION) {
		dhp_error_set(err, -EPROTONOSUPPORT,
			      "the peer speaks agent protocol version %lld; this side speaks "
			      "version %d", (long long)v, DHP_PROTO_VERSION);
		dhp_error_resolve(err, "install a dhpd and a dhp-agent of the same "
				  "protocol version (a newer dhpd understands older agents)");
		return -EPROTONOSUPPORT;
	}
	*ret_version = (uint32_t)v;
	return 0;
}

static int caps_decode(json_t *root, unsigned *ret_caps, struct dhp_error *err)
{
	json_t *caps = NULL, *v;
	unsigned flags = 0;
	size_t i;
	int r;

	if ((r = pj_arr(root, "hello", "capabilities", &caps, err)) < 0)
		return r;
	json_array_foreach(caps, i, v) {
		if (!json_is_string(v))
			return dhp_error_set(err, -EINVAL,
					     "hello: capabilities must be strings");
		/* Unknown ones are a newer minor version's: ignored. */
		flags |= dhp_proto_cap_parse(json_string_value(v));
	}
	*ret_caps = flags;
	return 0;
}

int proto_hello_decode(json_t *root, struct dhp_proto_hello *hello,
		       struct dhp_error *err)
{
	struct dhp_proto_hello *h = hello;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = version_decode(root, &h->version, err)) < 0)
		return r;
	/* Names are for people: a long one is cut, not refused. */
	if ((r = pj_str(root, "hello", "agent", h->agent, sizeof(h->agent), true, err)) < 0)
		return r;
	if ((r = pj_str(root, "hello", "kernel", h->kernel, sizeof(h->kernel), true,
			err)) < 0)
		return r;
	if ((r = pj_str(root, "hello", "profile", h->profile, sizeof(h->profile), true,
			err)) < 0)
		return r;
	if ((r = caps_decode(root, &h->caps, err)) < 0)
		return r;
	return proto_state_decode(root, "hello", &h->state, &h->has_state, err);
}
