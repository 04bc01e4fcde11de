/*
 * slipway-specq: evaluates RPM spec files with librpm, the way `rpmspec -q`
 * does, but loads the rpm configuration once and forks one child per spec.
 *
 * Usage: slipway-specq --srpm-qf FMT --rpm-qf FMT [-D 'name value']...
 *
 * Requests arrive on stdin, one per line: a spec path, optionally followed by
 * TAB-separated per-spec defines ("name value"). For each request one frame
 * is written to stdout:
 *
 *   SPECQ <status> <outlen> <errlen>\n<out><err>
 *
 * status is the child's exit status (0 = parsed), or 128+signal. out starts
 * with a line "<srpmlen> <rpmlen> <extralen>\n" followed by those three
 * sections: the source header formatted with the SRPM query format, every
 * package header formatted with the RPM query format (byte for byte what
 * `rpmspec -q [--srpm] --qf FMT` prints), and lines of facts rpmspec cannot
 * print (%files text, %check presence, full Source and Patch strings). err is what rpm
 * logged while parsing.
 *
 * The parent never parses a spec itself, so each spec starts from the same
 * freshly loaded configuration, exactly as a new rpmspec process would.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rpm/rpmbuild.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmspec.h>
#include <rpm/header.h>

static const char *srpm_qf, *rpm_qf;

/* define_macro mirrors rpm's -D handling: '-' in the name becomes '_', a
 * leading '%' is dropped, and the macro goes to the global and CLI contexts. */
static int define_macro(const char *arg)
{
	char *s = strdup(arg), *t = s;
	while (*t && *t != ' ' && *t != '\t') {
		if (*t == '-')
			*t = '_';
		t++;
	}
	t = s;
	if (*t == '%')
		t++;
	int rc = rpmDefineMacro(NULL, t, RMIL_CMDLINE);
	if (rc == 0)
		rpmDefineMacro(rpmCLIMacroContext, t, RMIL_CMDLINE);
	free(s);
	return rc;
}

struct buf {
	char *data;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			abort();
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_format(struct buf *b, Header h, const char *qf)
{
	errmsg_t err = NULL;
	char *s = headerFormat(h, qf, &err);
	if (err) {
		rpmlog(RPMLOG_ERR, "%s\n", err);
		return;
	}
	buf_str(b, s);
	free(s);
}

/* buf_lines appends every line of text, each prefixed with tag. */
static void buf_lines(struct buf *b, const char *tag, const char *text)
{
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		buf_str(b, tag);
		buf_add(b, p, n);
		buf_str(b, "\n");
		p = nl ? nl + 1 : NULL;
	}
}

/* evaluate runs in the child: parse one spec and write the sections to fd 1. */
static int evaluate(const char *path)
{
	rpmSpec spec = rpmSpecParse(path, RPMSPEC_ANYARCH | RPMSPEC_FORCE, NULL);
	if (spec == NULL)
		return 1;

	struct buf srpm = {0}, rpms = {0}, extra = {0};
	buf_str(&srpm, "");
	buf_str(&rpms, "");
	buf_str(&extra, "");
	buf_format(&srpm, rpmSpecSourceHeader(spec), srpm_qf);

	rpmSpecPkgIter it = rpmSpecPkgIterInit(spec);
	rpmSpecPkg pkg;
	while ((pkg = rpmSpecPkgIterNext(it)) != NULL) {
		Header h = rpmSpecPkgHeader(pkg);
		buf_format(&rpms, h, rpm_qf);
		char *files = rpmSpecPkgGetSection(pkg, RPMBUILD_FILE_LIST);
		char *filefile = rpmSpecPkgGetSection(pkg, RPMBUILD_FILE_FILE);
		buf_str(&extra, "@PKG\t");
		buf_str(&extra, headerGetString(h, RPMTAG_NAME));
		buf_str(&extra, files ? "\t1\n" : "\t0\n");
		buf_lines(&extra, "@F\t", files);
		buf_lines(&extra, "@FF\t", filefile);
		free(files);
		free(filefile);
	}
	rpmSpecPkgIterFree(it);

	const char *check = rpmSpecGetSection(spec, RPMBUILD_CHECK);
	buf_str(&extra, check ? "@CHECK\t1\n" : "@CHECK\t0\n");

	/* Full Source/Patch strings (URLs): the headers keep only base names.
	 * rpm lists them newest first; the reader sorts them by number. */
	rpmSpecSrcIter si = rpmSpecSrcIterInit(spec);
	rpmSpecSrc src;
	while ((src = rpmSpecSrcIterNext(si)) != NULL) {
		rpmSourceFlags fl = rpmSpecSrcFlags(src);
		const char *kind = (fl & RPMBUILD_ISPATCH) ? "@patch\t" : (fl & RPMBUILD_ISSOURCE) ? "@source\t" : NULL;
		if (kind == NULL)
			continue;
		char num[32];
		snprintf(num, sizeof(num), "%d\t", rpmSpecSrcNum(src));
		buf_str(&extra, kind);
		buf_str(&extra, num);
		buf_str(&extra, rpmSpecSrcFilename(src, 1));
		buf_str(&extra, "\n");
	}
	rpmSpecSrcIterFree(si);

	printf("%zu %zu %zu\n", srpm.len, rpms.len, extra.len);
	fwrite(srpm.data, 1, srpm.len, stdout);
	fwrite(rpms.data, 1, rpms.len, stdout);
	fwrite(extra.data, 1, extra.len, stdout);
	fflush(stdout);
	rpmSpecFree(spec);
	return 0;
}

static char *slurp(FILE *f, size_t *len)
{
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *data = malloc(n > 0 ? n : 1);
	*len = n > 0 ? fread(data, 1, n, f) : 0;
	return data;
}

/* serve handles one request line: fork, let the child evaluate, frame the result. */
static void serve(char *line)
{
	char *fields[64];
	int n = 0;
	for (char *tok = strtok(line, "\t"); tok && n < 64; tok = strtok(NULL, "\t"))
		fields[n++] = tok;
	if (n == 0)
		return;

	FILE *out = tmpfile(), *err = tmpfile();
	if (!out || !err) {
		perror("slipway-specq: tmpfile");
		exit(2);
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		perror("slipway-specq: fork");
		exit(2);
	}
	if (pid == 0) {
		dup2(fileno(out), STDOUT_FILENO);
		dup2(fileno(err), STDERR_FILENO);
		for (int i = 1; i < n; i++) {
			if (define_macro(fields[i]) != 0) {
				fprintf(stderr, "error: macro definition failed: %s\n", fields[i]);
				fflush(stderr);
				_exit(1);
			}
		}
		int rc = evaluate(fields[0]);
		fflush(stdout);
		fflush(stderr);
		_exit(rc);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	size_t outlen, errlen;
	char *o = slurp(out, &outlen), *e = slurp(err, &errlen);
	printf("SPECQ %d %zu %zu\n", code, outlen, errlen);
	fwrite(o, 1, outlen, stdout);
	fwrite(e, 1, errlen, stdout);
	fflush(stdout);
	free(o);
	free(e);
	fclose(out);
	fclose(err);
}

int main(int argc, char **argv)
{
	char **defines = calloc(argc, sizeof(char *));
	int ndefines = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--srpm-qf") == 0 && i + 1 < argc)
			srpm_qf = argv[++i];
		else if (strcmp(argv[i], "--rpm-qf") == 0 && i + 1 < argc)
			rpm_qf = argv[++i];
		else if (strcmp(argv[i], "-D") == 0 && i + 1 < argc)
			defines[ndefines++] = argv[++i];
		else {
			fprintf(stderr, "usage: slipway-specq --srpm-qf FMT --rpm-qf FMT [-D 'name value']...\n");
			return 2;
		}
	}
	if (!srpm_qf || !rpm_qf) {
		fprintf(stderr, "slipway-specq: --srpm-qf and --rpm-qf are required\n");
		return 2;
	}
	/* rpmspec reads the configuration, then applies each -D on top of it. */
	if (rpmReadConfigFiles(NULL, NULL) != 0) {
		fprintf(stderr, "slipway-specq: cannot read the rpm configuration\n");
		return 2;
	}
	for (int i = 0; i < ndefines; i++) {
		if (define_macro(defines[i]) != 0) {
			fprintf(stderr, "slipway-specq: macro definition failed: %s\n", defines[i]);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_DFL);

	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		serve(line);
	}
	free(line);
	return 0;
}
