/*
 * test_template.c — command templates (compiler/template.c): placeholders,
 * literal braces, needs_shell, argv splitting, and quoting proved by
 * running /bin/sh: every value, nasty or not, comes out verbatim whatever
 * the place in the shell's syntax its placeholder sits in.
 */
#define _GNU_SOURCE
#include "check.h"

#include <sys/wait.h>
#include <unistd.h>

#include "pipec/template.h"

/* name=value pairs for the lookup */
typedef struct vars {
  const char *const *kv; /* name, value, name, value, ..., NULL */
} vars;

static const char *lookup(void *ctx, const char *name, size_t len) {
  vars *v = ctx;
  for (const char *const *p = v->kv; *p; p += 2)
    if (strlen(p[0]) == len && memcmp(p[0], name, len) == 0)
      return p[1];
  return NULL;
}

static char refs_seen[512];

static int collect(void *ctx, const char *name, size_t len, size_t off) {
  (void)ctx;
  size_t n = strlen(refs_seen);
  snprintf(refs_seen + n, sizeof refs_seen - n, "%.*s@%zu ", (int)len, name,
           off);
  return 0;
}

static const char *refs(const char *tpl) {
  refs_seen[0] = 0;
  pipec_template_refs(tpl, collect, NULL);
  return refs_seen;
}

static void test_refs(void) {
  CHECK_STREQ(refs("python3 f.py {raw} {features} --min {n}"),
              "raw@14 features@20 n@37 ");
  CHECK_STREQ(refs("awk '{ print $1 }' {in} > {out}"), "in@20 out@27 ");
  /* {print} is a name in braces: a placeholder (the compiler rejects it
   * unless it is a port or param; write {{print}}) */
  CHECK_STREQ(refs("awk '{print}' {in}"), "print@6 in@15 ");
  CHECK_STREQ(refs("awk '{{print}}' {in}"), "in@17 ");
  CHECK_STREQ(refs("echo {{x}} {{ {} {1a} {a-b} { a } {_x9}"), "_x9@35 ");
  CHECK_STREQ(refs("{a}{b}"), "a@1 b@4 ");
  CHECK_STREQ(refs("x{"), "");
  CHECK_STREQ(refs(""), "");
}

static void test_expand_basic(void) {
  const char *kv[] = {"a", "plain", "sp", "two words", "q", "it's", NULL};
  vars v = {kv};
  char bad[32] = "";
  char *s = pipec_template_expand("cmd {a} {sp} {q} {{x}} '{ print }'",
                                  lookup, &v, bad, sizeof bad);
  CHECK_STREQ(s, "cmd plain 'two words' 'it'\\''s' {x} '{ print }'");
  free(s);
  s = pipec_template_expand("cmd {a} {nope}", lookup, &v, bad, sizeof bad);
  CHECK(s == NULL);
  CHECK_STREQ(bad, "nope");
  /* inside quotes a value keeps to them */
  s = pipec_template_expand("echo \"<{sp}>\" '<{q}>'", lookup, &v, bad,
                            sizeof bad);
  CHECK_STREQ(s, "echo \"<two words>\" '<it'\\''s>'");
  free(s);
}

static void test_needs_shell(void) {
  CHECK(!pipec_template_needs_shell("python3 f.py {raw} --min {n}"));
  CHECK(!pipec_template_needs_shell("cmd a=b --x={y} ./p/q.py @f %d +1,2"));
  CHECK(!pipec_template_needs_shell("  {prog}   {a}  "));
  CHECK(!pipec_template_needs_shell(""));
  const char *shelly[] = {
      "a | b",     "a > {out}",  "a < f",      "a; b",        "a && b",
      "a &",       "echo $HOME", "echo `x`",   "echo $(x)",   "echo 'x'",
      "echo \"x\"", "echo \\x",  "ls *.csv",   "ls ?",        "ls [ab]",
      "a # c",     "cd ~",       "VAR=1 cmd",  "{v}=1 cmd",   "a\nb",
      "echo {{x}}", "awk '{ print }' {in}",    "(a)",
  };
  for (size_t i = 0; i < sizeof shelly / sizeof *shelly; i++) {
    if (!pipec_template_needs_shell(shelly[i]))
      fprintf(stderr, "needs a shell: %s\n", shelly[i]);
    CHECK(pipec_template_needs_shell(shelly[i]));
  }
}

static void test_argv(void) {
  const char *kv[] = {"a",     "has space", "b",  "B", "c", "$(x) 'q' ;",
                      "empty", "",          NULL};
  vars v = {kv};
  char bad[32] = "";
  char **argv = pipec_template_argv("prog  {a} x{b}y\t--k={c} {empty} end ",
                                    lookup, &v, bad, sizeof bad);
  CHECK(argv != NULL);
  const char *want[] = {"prog",         "has space", "xBy", "--k=$(x) 'q' ;",
                        "",             "end",       NULL};
  for (int i = 0; want[i]; i++)
    CHECK_STREQ(argv[i], want[i]);
  CHECK(argv[6] == NULL);
  pipec_template_argv_free(argv);

  argv = pipec_template_argv("   ", lookup, &v, bad, sizeof bad);
  CHECK(argv != NULL && argv[0] == NULL);
  pipec_template_argv_free(argv);

  argv = pipec_template_argv("prog {zz}", lookup, &v, bad, sizeof bad);
  CHECK(argv == NULL);
  CHECK_STREQ(bad, "zz");
}

/* Run `/bin/sh -c line`, return its stdout (malloc'd) and exit status. */
static char *sh_run(const char *line, int *status) {
  int fd[2];
  CHECK_EQ(pipe(fd), 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fd[1], 1);
    close(fd[0]);
    close(fd[1]);
    execl("/bin/sh", "sh", "-c", line, (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  size_t cap = 256, len = 0;
  char *out = malloc(cap);
  CHECK(out != NULL);
  for (;;) {
    if (len + 1 == cap)
      CHECK((out = realloc(out, cap *= 2)) != NULL);
    ssize_t n = read(fd[0], out + len, cap - len - 1);
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  out[len] = 0;
  close(fd[0]);
  CHECK_EQ(waitpid(pid, status, 0), pid);
  return out;
}

/* Values no shell syntax may leak from. "PWNED" appears in the output only
 * if a value was executed. None ends with a newline: $(...) strips those. */
static const char *const nasty[] = {
    "plain",
    "two  words",
    "",
    "it's",
    "'",
    "''",
    "\"",
    "a\"b'c",
    "\\",
    "back\\slash\\",
    "$(echo PWNED)",
    "`echo PWNED`",
    "$HOME ${HOME} $1 $$",
    "a; echo PWNED",
    "a && echo PWNED || echo PWNED",
    "x | echo PWNED > /dev/stderr",
    "*",
    "~",
    "#not a comment",
    "line1\nline2",
    "\nEOF\necho PWNED",
    "EOF",
    "'\"'\"'$(echo PWNED)'",
    "\"; echo PWNED; echo \"",
    "`; echo PWNED; `",
    "tab\there",
    "(echo PWNED)",
    "{v}",
    "-n",
};

/* Templates putting {v} in every kind of place; OUT is how the value must
 * be printed (V stands for it). */
static const struct {
  const char *tpl;
  const char *out;   /* printf format with one %s for the value */
  bool no_newline;   /* values with a line break are refused here */
} places[] = {
    {"printf '%s\\n' {v}", "%s\n", false},
    {"printf '%s\\n' x{v}y", "x%sy\n", false},
    {"printf '%s\\n' \"<{v}>\"", "<%s>\n", false},
    {"printf '%s\\n' '<{v}>'", "<%s>\n", false},
    {"printf '%s\\n' '<'{v}\"'\"", "<%s'\n", false},
    {"printf '%s\\n' \"$(printf '%s' {v})\"", "%s\n", false},
    {"printf '%s\\n' \"$(printf '%s' \"<{v}>\")\"", "<%s>\n", false},
    {"printf '%s\\n' \"$(printf '%s' '<{v}>')\"", "<%s>\n", false},
    {"printf '%s\\n' \"$( (printf '%s' {v}) )\"", "%s\n", false},
    {"printf '%s\\n' \"`printf '%s' {v}`\"", "%s\n", false},
    {"printf '%s\\n' \"`printf '%s' \\\"<{v}>\\\"`\"", "<%s>\n", false},
    {"printf '%s\\n' \"`printf '%s' '<{v}>'`\"", "<%s>\n", false},
    {"printf '%s\\n' `printf '%s' \"<{v}>\" | od -An -c | tr -d ' \\n'` "
     ">/dev/null; printf '%s\\n' {v}",
     "%s\n", false},
    {"awk 'BEGIN { printf \"%s\\n\", ARGV[1] }' {v}", "%s\n", false},
    {"cat <<EOF\n<{v}>\nEOF", "<%s>\n", true},
    {"cat <<-EOF\n\t<{v}>\n\tEOF", "<%s>\n", true},
    {"cat <<'EOF'\n<{v}>\nEOF", "<%s>\n", true},
    {"cat << \"EOF\"; printf '%s\\n' {v}\n<{v}>\nEOF", "<%s>\n%s\n", true},
    {"printf '%s\\n' ok # {v}\nprintf '%s\\n' {v}", "ok\n%s\n", false},
};

static void test_shell_roundtrip(void) {
  for (size_t pi = 0; pi < sizeof places / sizeof *places; pi++) {
    for (size_t vi = 0; vi < sizeof nasty / sizeof *nasty; vi++) {
      const char *val = nasty[vi];
      const char *kv[] = {"v", val, NULL};
      vars v = {kv};
      char bad[32] = "";
      char *line = pipec_template_expand(places[pi].tpl, lookup, &v, bad,
                                         sizeof bad);
      if (places[pi].no_newline && strchr(val, '\n')) {
        CHECK(line == NULL);
        CHECK_STREQ(bad, "v");
        continue;
      }
      CHECK(line != NULL);
      /* awk's ARGV: a value that looks like an assignment or option is
       * awk's business, not the shell's */
      if (strncmp(places[pi].tpl, "awk", 3) == 0 &&
          (strchr(val, '=') || val[0] == '-' || !*val)) {
        free(line);
        continue;
      }
      int status;
      char *out = sh_run(line, &status);
      char want[1024];
      snprintf(want, sizeof want, places[pi].out, val, val);
      if (strcmp(out, want) != 0 || status != 0) {
        fprintf(stderr, "template: %s\nvalue:    %s\nline:     %s\n",
                places[pi].tpl, val, line);
      }
      CHECK_STREQ(out, want);
      CHECK_EQ(status, 0);
      CHECK(strstr(out, "PWNED") == NULL || strstr(val, "PWNED") != NULL);
      free(out);
      free(line);
    }
  }
}

static void test_refused(void) {
  const char *kv[] = {"v", "(echo PWNED)", NULL};
  vars v = {kv};
  char bad[32] = "";
  /* right after a backslash or a '$' the value's first byte would not be
   * quoted: refused rather than guessed */
  CHECK(pipec_template_expand("echo \\{v}", lookup, &v, bad, sizeof bad) ==
        NULL);
  CHECK_STREQ(bad, "v");
  char *s = pipec_template_expand("echo \"$\"{v}", lookup, &v, bad,
                                  sizeof bad);
  CHECK_STREQ(s, "echo \"$\"'(echo PWNED)'");
  free(s);
  CHECK(pipec_template_expand("echo \"${v}\"", lookup, &v, bad, sizeof bad) ==
        NULL);
  CHECK(pipec_template_expand("cat <<E\n${v}\nE", lookup, &v, bad,
                              sizeof bad) == NULL);
  s = pipec_template_expand("cat <<'E'\n${v}\nE", lookup, &v, bad,
                                  sizeof bad);
  CHECK_STREQ(s, "cat <<'E'\n$(echo PWNED)\nE");
  free(s);
  /* in single quotes a backslash is just a byte */
  s = pipec_template_expand("echo '\\{v}'", lookup, &v, bad, sizeof bad);
  CHECK_STREQ(s, "echo '\\(echo PWNED)'");
  free(s);
}

static void test_quote(void) {
  char *b = NULL;
  size_t cap = 0, len = 0;
  len = pipec_shell_quote(&b, &cap, len, "a-b_c.d/e:f=g@h%i+j,k");
  CHECK_STREQ(b, "a-b_c.d/e:f=g@h%i+j,k");
  len = pipec_shell_quote(&b, &cap, len, " ");
  CHECK_STREQ(b, "a-b_c.d/e:f=g@h%i+j,k' '");
  len = pipec_shell_quote(&b, &cap, len, "");
  CHECK_STREQ(b, "a-b_c.d/e:f=g@h%i+j,k' '''");
  CHECK_EQ(len, strlen(b));
  free(b);
}

int main(void) {
  RUN(test_refs);
  RUN(test_expand_basic);
  RUN(test_needs_shell);
  RUN(test_argv);
  RUN(test_quote);
  RUN(test_refused);
  RUN(test_shell_roundtrip);
  return 0;
}
