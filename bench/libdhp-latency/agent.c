/* SPDX-License-Identifier: MIT */
/*
 * What the agent path runs build/dhp-agent against: this program as dhpd
 * (the agent's --socket: a listening socket it connects to, then lines of
 * the agent protocol both ways) and a fake sysfs tree (--sysfs) for its
 * hello. With --no-uevents and --app-socket in the working directory it
 * needs no root and touches nothing of the machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "latency.h"
#include "proto/proto.h"

volatile pid_t agent_pid = -1;
char agent_path[PATH_MAX];
char app_path[300];
static char tree[300], chan_path[300], log_path[300];

/* dhpd's end of the channel: lines in. */
static struct {
	int listen_fd, fd;
	char buf[3 * DHP_PROTO_LINE_MAX];
	size_t len;
	struct dhp_proto_msg msg;
} chan = { .listen_fd = -1, .fd = -1 };

int find_agent(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(agent_path, sizeof(agent_path), "%s/../dhp-agent", self) >=
	    sizeof(agent_path))
		return -ENAMETOOLONG;
	return access(agent_path, X_OK) < 0 ? -errno : 0;
}

static void put(const char *rel, const char *content)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	for (char *p = path + strlen(tree) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if ((f = fopen(path, "w"))) {
		fputs(content, f);
		fclose(f);
	}
}

void agent_setup(const char *workdir)
{
	snprintf(tree, sizeof(tree), "%s/sys", workdir);
	snprintf(chan_path, sizeof(chan_path), "%s/chan.sock", workdir);
	snprintf(app_path, sizeof(app_path), "%s/apps.sock", workdir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", workdir);
	/* The agent's fake sysfs: what its hello reads. */
	mkdir(tree, 0755);
	put("devices/system/cpu/possible", "0-7\n");
	put("devices/system/cpu/online", "0-1\n");
	put("devices/system/cpu/cpu0/uevent", "");
	put("devices/system/cpu/cpu1/online", "1\n");
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* The next message from the agent within timeout_s into chan.msg. */
static int chan_msg(double timeout_s)
{
	int64_t deadline = now_ns() + (int64_t)(timeout_s * 1e9);
	struct dhp_error err = { 0 };
	char *nl;
	ssize_t n;

	while (!(nl = memchr(chan.buf, '\n', chan.len))) {
		struct pollfd p = { .fd = chan.fd, .events = POLLIN };
		int64_t left = deadline - now_ns();

		if (chan.len == sizeof(chan.buf) || left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(left / 1000000) + 1) <= 0)
			continue;
		n = read(chan.fd, chan.buf + chan.len, sizeof(chan.buf) - chan.len);
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		chan.len += (size_t)n;
	}
	n = dhp_proto_decode(chan.buf, (size_t)(nl + 1 - chan.buf), &chan.msg, &err);
	chan.len -= (size_t)(nl + 1 - chan.buf);
	memmove(chan.buf, nl + 1, chan.len);
	return n < 0 ? (int)n : 0;
}

void print_agent_log(void)
{
	char line[512];
	FILE *f = fopen(log_path, "r");

	if (!f)
		return;
	fprintf(stderr, "%s: dhp-agent's log (%s):\n", NAME, log_path);
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

void stop_agent(void)
{
	pid_t pid = agent_pid;
	int status = 0;

	if (chan.fd >= 0)
		close(chan.fd);
	if (chan.listen_fd >= 0)
		close(chan.listen_fd);
	chan.fd = chan.listen_fd = -1;
	chan.len = 0;
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++)
		sleep_s(0.01);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		printf("# %s: dhp-agent did not stop within 2 s of SIGTERM\n", NAME);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("# %s: dhp-agent ended with status 0x%x\n", NAME, status);
	}
	agent_pid = -1;
}

int start_agent(void)
{
	const char *argv[] = { "dhp-agent", "--socket", chan_path, "--sysfs", tree,
			       "--no-uevents", "--app-socket", app_path, NULL };
	struct sockaddr_un sa;
	sigset_t old_mask;
	pid_t pid;
	int r;

	unlink(chan_path);
	unlink(log_path);
	if ((r = unix_addr(chan_path, &sa)) < 0)
		return r;
	chan.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (chan.listen_fd < 0 || bind(chan.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(chan.listen_fd, 1) < 0)
		return -errno;
	fflush(stdout);
	sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		return r;
	}
	if (!pid) {
		int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (logfd >= 0)
			dup2(logfd, 2);
		execv(agent_path, (char *const *)argv);
		_exit(127);
	}
	agent_pid = pid;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	{
		struct pollfd p = { .fd = chan.listen_fd, .events = POLLIN };

		if (poll(&p, 1, 10000) != 1)
			return -ETIMEDOUT;
	}
	chan.fd = accept4(chan.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (chan.fd < 0)
		return -errno;
	if ((r = chan_msg(10.0)) < 0)
		return r;
	return chan.msg.type == DHP_PROTO_HELLO ? 0 : -EPROTO;
}

int64_t notify(uint64_t id, int64_t *ret_t0)
{
	struct dhp_proto_msg m = { .type = DHP_PROTO_REQUEST };
	char line[DHP_PROTO_LINE_MAX + 1];
	size_t len;
	int r;

	m.request = (struct dhp_proto_request){
		.id = id, .op = DHP_PROTO_OP_NOTIFY, .note = DHP_PROTO_NOTE_ADD_COMPLETE,
		.has_unit = true, .unit = { .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = 0 },
	};
	if ((r = dhp_proto_encode(&m, line, sizeof(line), &len, NULL)) < 0)
		return r;
	*ret_t0 = now_ns();
	if (send(chan.fd, line, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno;
	for (;;) {
		if ((r = chan_msg(REPLY_TIMEOUT_S)) < 0)
			return r;
		if (chan.msg.type != DHP_PROTO_REPLY || chan.msg.reply.id != id)
			continue;	/* an event: not ours */
		if (chan.msg.reply.result != DHP_PROTO_OK)
			return -EPROTO;
		return now_ns();
	}
}
