# --- libdhp: the public C API for programs in a partition --------------------
# include/dhp/dhp.h, src/libdhp/, man/libdhp.3, docs/libdhp.md.
#
# $(BUILD)/libdhp.so.0 (+ libdhp.so) and $(BUILD)/libdhp.a, from objects of
# their own: position independent, hidden by default (only what dhp.h marks
# DHP_PUBLIC and src/libdhp/libdhp.sym lists is exported, at DHP_0.1). The
# agent protocol (src/proto), common/error.c and common/fd.c are compiled
# again that way into $(BUILD)/pic/, so they never leak into the library's
# ABI. jansson is linked dynamically (dhp.pc: Requires.private, for static
# links).
LIBDHP_VERSION := 0.1.0
LIBDHP_SONAME  := libdhp.so.0
LIBDHP_SRCS    := $(wildcard src/libdhp/*.c)
LIBDHP_PIC_SRCS := $(LIBDHP_SRCS) $(PROTO_SRCS) src/common/error.c src/common/fd.c
LIBDHP_OBJS    := $(LIBDHP_PIC_SRCS:%.c=$(BUILD)/pic/%.o)
LIBDHP_SO      := $(BUILD)/$(LIBDHP_SONAME)
LIBDHP_LINK    := $(BUILD)/libdhp.so
LIBDHP_A       := $(BUILD)/libdhp.a
LIBDHP_PC      := $(BUILD)/dhp.pc
LIBDHP_SYM     := src/libdhp/libdhp.sym
LIBDHP_CFLAGS  := -Iinclude -fPIC -fvisibility=hidden -pthread
LIBDHP_LIBS    := $(PROTO_LIBS) -pthread
# Every symbol resolved at link time; the sanitizers' runtimes are the
# program's, so a sanitized library leaves them undefined.
LIBDHP_LDFLAGS := -Wl,-soname,$(LIBDHP_SONAME) -Wl,--version-script=$(LIBDHP_SYM) \
		  $(if $(SANITIZE),,-Wl,-z,defs)

ifneq ($(LIBDHP_SRCS),)
all: $(LIBDHP_SO) $(LIBDHP_LINK) $(LIBDHP_A) $(LIBDHP_PC)
endif

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIBDHP_CFLAGS) -c $< -o $@

$(LIBDHP_SO): $(LIBDHP_OBJS) $(LIBDHP_SYM)
	$(CC) $(ALL_LDFLAGS) -shared $(LIBDHP_LDFLAGS) $(LIBDHP_OBJS) $(LIBDHP_LIBS) -o $@

$(LIBDHP_LINK): | $(LIBDHP_SO)
	ln -sf $(LIBDHP_SONAME) $@

# One relocatable object whose hidden symbols are made local: a program
# linked statically sees dhp_* only, as with the shared library.
$(LIBDHP_A): $(LIBDHP_OBJS)
	$(LD) -r $(LIBDHP_OBJS) -o $(BUILD)/pic/libdhp-all.o
	objcopy --localize-hidden $(BUILD)/pic/libdhp-all.o
	@rm -f $@
	$(AR) rcs $@ $(BUILD)/pic/libdhp-all.o

# --- make install: PREFIX (default /usr/local), DESTDIR ------------------------
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
SBINDIR      ?= $(PREFIX)/sbin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
DOCDIR       ?= $(PREFIX)/share/doc/dhp
CONSOLE_INSTALL_DIR ?= $(PREFIX)/share/dhp/console
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL      ?= install

# Rewritten at every make (it carries the install's paths), touched only
# when it changes.
.PHONY: libdhp-pc-always
$(LIBDHP_PC): dist/dhp.pc.in libdhp-pc-always
	@mkdir -p $(dir $@)
	@sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	     -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(LIBDHP_VERSION)|g' \
	     dist/dhp.pc.in >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# Programs: the client in bin, the daemons (dhpd, dhp-agent) in sbin, as
# dist/dhpd.service expects. Man pages by their section: man/NAME.N.
INSTALL_BIN  := $(filter $(BUILD)/dhpctl,$(PROGS))
INSTALL_SBIN := $(filter $(BUILD)/dhpd,$(PROGS)) $(if $(AGENT_SRCS),$(AGENT))
INSTALL_MAN  := $(wildcard man/*.[1-8])

.PHONY: install uninstall
install: $(LIBDHP_SO) $(LIBDHP_A) $(LIBDHP_PC) $(INSTALL_BIN) $(INSTALL_SBIN)
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)/dhp $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 644 include/dhp/dhp.h $(DESTDIR)$(INCLUDEDIR)/dhp/dhp.h
	$(INSTALL) -m 755 $(LIBDHP_SO) $(DESTDIR)$(LIBDIR)/$(LIBDHP_SONAME)
	ln -sf $(LIBDHP_SONAME) $(DESTDIR)$(LIBDIR)/libdhp.so
	$(INSTALL) -m 644 $(LIBDHP_A) $(DESTDIR)$(LIBDIR)/libdhp.a
	$(INSTALL) -m 644 $(LIBDHP_PC) $(DESTDIR)$(PKGCONFIGDIR)/dhp.pc
ifneq ($(INSTALL_BIN),)
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/
endif
ifneq ($(strip $(INSTALL_SBIN)),)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 755 $(INSTALL_SBIN) $(DESTDIR)$(SBINDIR)/
endif
	@set -e; for page in $(INSTALL_MAN); do \
		sec=$${page##*.}; \
		echo "$(INSTALL) -m 644 $$page $(DESTDIR)$(MANDIR)/man$$sec/"; \
		$(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$sec; \
		$(INSTALL) -m 644 $$page $(DESTDIR)$(MANDIR)/man$$sec/; \
	done
	$(INSTALL) -m 644 README.md $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -d $(DESTDIR)$(CONSOLE_INSTALL_DIR)
	$(INSTALL) -m 644 $(wildcard console/*) $(DESTDIR)$(CONSOLE_INSTALL_DIR)/
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then \
		ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/dhp/dhp.h $(DESTDIR)$(LIBDIR)/$(LIBDHP_SONAME) \
		$(DESTDIR)$(LIBDIR)/libdhp.so $(DESTDIR)$(LIBDIR)/libdhp.a \
		$(DESTDIR)$(PKGCONFIGDIR)/dhp.pc \
		$(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALL_BIN))) \
		$(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(INSTALL_SBIN)))
	rm -rf $(DESTDIR)$(CONSOLE_INSTALL_DIR)
	@for page in $(INSTALL_MAN); do \
		sec=$${page##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$sec/$${page##*/}; done
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(INCLUDEDIR)/dhp 2>/dev/null

# --- tests ---------------------------------------------------------------------
# t1400 plays dhp-agent against the shared library (linked as a program
# would, found through its rpath), using the protocol library for its own
# side of the socket: the library's copy of it is hidden, so the two never
# meet. t1410-install.py runs make install into a temporary DESTDIR and
# builds programs against what it installed.
$(BUILD)/tests/t1400-libdhp.o: ALL_CFLAGS += -Iinclude -pthread
$(BUILD)/tests/t1400-libdhp: $(BUILD)/tests/t1400-libdhp.o $(BUILD)/tests/harness.o \
			     $(PROTO_LIB) $(COMMON_LIB) | $(LIBDHP_SO) $(LIBDHP_LINK)
	$(CC) $(ALL_LDFLAGS) $^ -L$(BUILD) -ldhp -Wl,-rpath,'$$ORIGIN/..' $(PROTO_LIBS) -pthread \
		-o $@
# t1401 links the library's objects themselves, to reach its insides
# (reading uevent datagrams, records): src/libdhp/internal.h.
$(BUILD)/tests/t1401-libdhp-internal.o: ALL_CFLAGS += -Iinclude -pthread
$(BUILD)/tests/t1401-libdhp-internal: $(BUILD)/tests/t1401-libdhp-internal.o \
				      $(BUILD)/tests/harness.o $(LIBDHP_OBJS)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBDHP_LIBS) -o $@

-include $(LIBDHP_OBJS:.o=.d)
# --- end of libdhp --------------------------------------------------------------
