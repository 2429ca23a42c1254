package config_test

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dxledger/dxledger/config"
	"github.com/spf13/pflag"
)

// writeFile writes content to dir/name and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseFlags returns a flag set with RegisterFlags's flags, parsed from args; nil args give
// a nil set.
func parseFlags(t *testing.T, args []string) *pflag.FlagSet {
	t.Helper()
	if args == nil {
		return nil
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse flags %q: %v", args, err)
	}
	return fs
}

// leaves returns the errors joined in err, recursively.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// keyErrors returns the *config.KeyError values joined in err.
func keyErrors(err error) []*config.KeyError {
	var out []*config.KeyError
	for _, e := range leaves(err) {
		if ke, ok := errors.AsType[*config.KeyError](e); ok {
			out = append(out, ke)
		}
	}
	return out
}

// badKeys returns the sorted keys of the *config.KeyError values joined in err.
func badKeys(err error) []string {
	var keys []string
	for _, ke := range keyErrors(err) {
		keys = append(keys, ke.Key)
	}
	slices.Sort(keys)
	return keys
}

// unknownKeys returns the *config.UnknownKeyError values joined in err.
func unknownKeys(err error) []*config.UnknownKeyError {
	var out []*config.UnknownKeyError
	for _, e := range leaves(err) {
		if ue, ok := errors.AsType[*config.UnknownKeyError](e); ok {
			out = append(out, ue)
		}
	}
	return out
}

// sameConfig compares two configs, comparing Location by name.
func sameConfig(t *testing.T, got, want config.Config) {
	t.Helper()
	if got.Location == nil || got.Location.String() != want.Timezone {
		t.Errorf("Location = %v, want %s", got.Location, want.Timezone)
	}
	got.Location, want.Location = nil, nil
	if got != want {
		t.Errorf("Load() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	const fileYAML = `
http_addr: 10.0.0.1:1000
shutdown_timeout: 20s
db_max_conns: 30
database_url: postgres://file@db/x
log_format: json
`
	fileWant := func(c *config.Config) {
		c.HTTPAddr = "10.0.0.1:1000"
		c.ShutdownTimeout = 20 * time.Second
		c.DBMaxConns = 30
		c.DatabaseURL = "postgres://file@db/x"
		c.LogFormat = "json"
	}
	env := []string{
		"HOME=/root", "PATH=/bin", "NOT_A_PAIR", "dxledger_http_addr=ignored:1",
		"DXLEDGER_HTTP_ADDR=10.0.0.2:2000",
		"DXLEDGER_SHUTDOWN_TIMEOUT=25s",
		"DXLEDGER_DB_MAX_CONNS=40",
		"DXLEDGER_DATABASE_URL=",
	}
	envWant := func(c *config.Config) {
		fileWant(c)
		c.HTTPAddr = "10.0.0.2:2000"
		c.ShutdownTimeout = 25 * time.Second
		c.DBMaxConns = 40
		c.DatabaseURL = ""
	}
	tests := []struct {
		name     string
		implicit string   // content of WorkDir/dxledger.yaml; "" writes none
		explicit string   // content of a file passed as Sources.File; "" passes none
		viaFlag  bool     // pass the explicit file as --config instead of Sources.File
		env      []string // Sources.Environ
		args     []string // flags; nil means no flag set
		want     func(c *config.Config, implicit, explicit string)
	}{
		{
			name: "defaults",
			want: func(*config.Config, string, string) {},
		},
		{
			name:     "file over default",
			implicit: fileYAML,
			want: func(c *config.Config, implicit, _ string) {
				fileWant(c)
				c.File = implicit
			},
		},
		{
			name:     "env over file",
			implicit: fileYAML,
			env:      env,
			want: func(c *config.Config, implicit, _ string) {
				envWant(c)
				c.File = implicit
			},
		},
		{
			name:     "flag over env",
			implicit: fileYAML,
			env:      env,
			args: []string{"--addr", "10.0.0.3:3000", "--shutdown-timeout=30s", "--db-max-conns", "50",
				"--database-url", "postgresql://flag@db/x"},
			want: func(c *config.Config, implicit, _ string) {
				envWant(c)
				c.File = implicit
				c.HTTPAddr = "10.0.0.3:3000"
				c.ShutdownTimeout = 30 * time.Second
				c.DBMaxConns = 50
				c.DatabaseURL = "postgresql://flag@db/x"
			},
		},
		{
			name:     "flags the user did not set override nothing",
			implicit: fileYAML,
			env:      env,
			args:     []string{"--log-level", "debug"},
			want: func(c *config.Config, implicit, _ string) {
				envWant(c)
				c.File = implicit
				c.LogLevel = "debug"
			},
		},
		{
			name: "env over default without a file",
			env:  []string{"DXLEDGER_TIMEZONE=UTC", "DXLEDGER_BOOTSTRAP_TOKEN=s3cret", "DXLEDGER_LOG_LEVEL=warn"},
			want: func(c *config.Config, _, _ string) {
				c.Timezone = "UTC"
				c.BootstrapToken = "s3cret"
				c.LogLevel = "warn"
			},
		},
		{
			name: "flag over default",
			args: []string{"--timezone", "Europe/Paris", "--data-dir", "/srv/dx", "--log-format", "json"},
			want: func(c *config.Config, _, _ string) {
				c.Timezone = "Europe/Paris"
				c.DataDir = "/srv/dx"
				c.LogFormat = "json"
			},
		},
		{
			name:     "explicit file wins over the implicit one",
			implicit: "http_addr: 10.9.9.9:9\nlog_level: error\n",
			explicit: "http_addr: 10.0.0.4:4000\n",
			want: func(c *config.Config, _, explicit string) {
				c.File = explicit
				c.HTTPAddr = "10.0.0.4:4000"
			},
		},
		{
			name:     "explicit file from --config",
			explicit: "http_addr: 10.0.0.5:5000\n",
			viaFlag:  true,
			args:     []string{},
			want: func(c *config.Config, _, explicit string) {
				c.File = explicit
				c.HTTPAddr = "10.0.0.5:5000"
			},
		},
		{
			name:     "null file value keeps the default",
			implicit: "timezone:\nlog_level: debug\n",
			want: func(c *config.Config, implicit, _ string) {
				c.File = implicit
				c.LogLevel = "debug"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			workDir := t.TempDir()
			var implicit, explicit string
			if tt.implicit != "" {
				implicit = writeFile(t, workDir, config.DefaultFile, tt.implicit)
			}
			if tt.explicit != "" {
				explicit = writeFile(t, t.TempDir(), "explicit.yaml", tt.explicit)
			}
			args := tt.args
			s := config.Sources{WorkDir: workDir, Environ: tt.env}
			if tt.viaFlag {
				args = append(args, "--config", explicit)
			} else {
				s.File = explicit
			}
			s.Flags = parseFlags(t, args)

			got, err := config.Load(s)
			if err != nil {
				t.Fatalf("Load() error = %v, want nil", err)
			}
			want := config.Default()
			tt.want(&want, implicit, explicit)
			sameConfig(t, got, want)
		})
	}
}

func TestLoadUnknownFileKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		yaml           string
		wantNames      []string
		wantSuggestion string // of the first unknown key
		wantBad        []string
	}{
		{name: "typo", yaml: "http_adrr: 1.2.3.4:5\n", wantNames: []string{"http_adrr"}, wantSuggestion: "http_addr"},
		{name: "dashes", yaml: "log-level: debug\n", wantNames: []string{"log-level"}, wantSuggestion: "log_level"},
		{name: "nested", yaml: "database:\n  url: postgres://x\n", wantNames: []string{"database"}},
		{name: "null value", yaml: "colour:\n", wantNames: []string{"colour"}},
		{
			name:      "several, with a bad value",
			yaml:      "zzz: 1\naaa: 2\ndb_max_conns: 0\n",
			wantNames: []string{"aaa", "zzz"},
			wantBad:   []string{"db_max_conns"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := writeFile(t, dir, config.DefaultFile, tt.yaml)
			_, err := config.Load(config.Sources{WorkDir: dir})
			if err == nil {
				t.Fatal("Load() error = nil, want an unknown key error")
			}
			var names []string
			for _, ue := range unknownKeys(err) {
				names = append(names, ue.Name)
				if ue.File != path {
					t.Errorf("UnknownKeyError.File = %q, want %q", ue.File, path)
				}
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Fatalf("unknown keys = %q, want %q (error: %v)", names, tt.wantNames, err)
			}
			if got := unknownKeys(err)[0].Suggestion; got != tt.wantSuggestion {
				t.Errorf("Suggestion = %q, want %q", got, tt.wantSuggestion)
			}
			for _, n := range tt.wantNames {
				if msg := err.Error(); !strings.Contains(msg, n) || !strings.Contains(msg, path) {
					t.Errorf("error %q does not name key %q and file %q", msg, n, path)
				}
			}
			if got := badKeys(err); !slices.Equal(got, tt.wantBad) {
				t.Errorf("bad keys = %q, want %q", got, tt.wantBad)
			}
		})
	}
}

func TestLoadUnknownEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		env            []string
		wantNames      []string
		wantSuggestion string // of the first
	}{
		{name: "typo", env: []string{"DXLEDGER_HTTP_ADRR=1.2.3.4:5"}, wantNames: []string{"DXLEDGER_HTTP_ADRR"}, wantSuggestion: "DXLEDGER_HTTP_ADDR"},
		{name: "not a key", env: []string{"DXLEDGER_CONFIG=/etc/dx.yaml"}, wantNames: []string{"DXLEDGER_CONFIG"}},
		{name: "lower-case key", env: []string{"DXLEDGER_log_level=debug"}, wantNames: []string{"DXLEDGER_log_level"}, wantSuggestion: "DXLEDGER_LOG_LEVEL"},
		{name: "empty value still counts", env: []string{"DXLEDGER_TIMEZON="}, wantNames: []string{"DXLEDGER_TIMEZON"}, wantSuggestion: "DXLEDGER_TIMEZONE"},
		{name: "prefix alone", env: []string{"DXLEDGER_=x"}, wantNames: []string{"DXLEDGER_"}},
		{
			name:      "several, sorted, alongside good ones",
			env:       []string{"DXLEDGER_ZZZ=1", "DXLEDGER_LOG_LEVEL=debug", "DXLEDGER_AAA=2", "DXLEDGER_ZZZ=3"},
			wantNames: []string{"DXLEDGER_AAA", "DXLEDGER_ZZZ"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(config.Sources{WorkDir: t.TempDir(), Environ: tt.env})
			if err == nil {
				t.Fatal("Load() error = nil, want an unknown variable error")
			}
			var names []string
			for _, ue := range unknownKeys(err) {
				names = append(names, ue.Name)
				if ue.File != "" {
					t.Errorf("UnknownKeyError.File = %q, want \"\"", ue.File)
				}
				if !strings.Contains(ue.Error(), ue.Name) {
					t.Errorf("error %q does not name %s", ue.Error(), ue.Name)
				}
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Fatalf("unknown variables = %q, want %q (error: %v)", names, tt.wantNames, err)
			}
			if got := unknownKeys(err)[0].Suggestion; got != tt.wantSuggestion {
				t.Errorf("Suggestion = %q, want %q", got, tt.wantSuggestion)
			}
		})
	}
}

// everyCheckedKey lists the keys Validate checks: all but bootstrap_token and token.
var everyCheckedKey = []string{
	"api_url", "data_dir", "database_url", "db_max_conns", "deadline_flags_per_tick", "http_addr", "log_format", "log_level",
	"pg_bin_dir", "readiness_max_lag", "session_idle_timeout", "session_ttl", "shutdown_timeout", "timezone", "token_ttl", "workflow_file",
}

func TestLoadReportsEveryBadValue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notADir := writeFile(t, dir, "file", "")
	env := []string{
		"DXLEDGER_HTTP_ADDR=no-port",
		"DXLEDGER_DATA_DIR=",
		"DXLEDGER_DATABASE_URL=mysql://dx:hunter2@db/x",
		"DXLEDGER_TIMEZONE=Mars/Olympus_Mons",
		"DXLEDGER_LOG_LEVEL=loud",
		"DXLEDGER_LOG_FORMAT=xml",
		"DXLEDGER_SHUTDOWN_TIMEOUT=0s",
		"DXLEDGER_READINESS_MAX_LAG=-1s",
		"DXLEDGER_DB_MAX_CONNS=0",
		"DXLEDGER_DEADLINE_FLAGS_PER_TICK=0",
		"DXLEDGER_PG_BIN_DIR=" + notADir,
		"DXLEDGER_WORKFLOW_FILE=" + dir,
		"DXLEDGER_API_URL=ftp://example",
		"DXLEDGER_TOKEN_TTL=1m",
		"DXLEDGER_SESSION_IDLE_TIMEOUT=1s",
		"DXLEDGER_SESSION_TTL=9999h",
	}
	_, err := config.Load(config.Sources{WorkDir: dir, Environ: env})
	if got := badKeys(err); !slices.Equal(got, everyCheckedKey) {
		t.Fatalf("bad keys = %q, want %q (error: %v)", got, everyCheckedKey, err)
	}
	msg := err.Error()
	for _, ke := range keyErrors(err) {
		envName := "DXLEDGER_" + strings.ToUpper(ke.Key)
		if !strings.Contains(ke.Error(), ke.Key) || !strings.Contains(ke.Error(), envName) {
			t.Errorf("error %q does not name %s and %s", ke.Error(), ke.Key, envName)
		}
		if ke.Source != "environment" {
			t.Errorf("%s: Source = %q, want environment", ke.Key, ke.Source)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Errorf("error %q shows the database password", msg)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeFile(t, dir, "workflow.yaml", "")
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name     string
		edit     func(c *config.Config)
		wantKeys []string // nil: valid
	}{
		{name: "default", edit: func(*config.Config) {}},
		{name: "port zero", edit: func(c *config.Config) { c.HTTPAddr = "127.0.0.1:0" }},
		{name: "all interfaces", edit: func(c *config.Config) { c.HTTPAddr = ":8080" }},
		{name: "IPv6", edit: func(c *config.Config) { c.HTTPAddr = "[::1]:8080" }},
		{name: "postgres URL", edit: func(c *config.Config) { c.DatabaseURL = "postgres://u:p@db:5432/dx?sslmode=disable" }},
		{name: "postgresql URL with socket", edit: func(c *config.Config) { c.DatabaseURL = "postgresql:///dx?host=/run/postgresql" }},
		{name: "key=value", edit: func(c *config.Config) { c.DatabaseURL = "host=/tmp dbname=dx user = 'a b' password='it\\'s'" }},
		{name: "UTC", edit: func(c *config.Config) { c.Timezone = "UTC" }},
		{name: "bounds", edit: func(c *config.Config) { c.DBMaxConns = 1000; c.ShutdownTimeout = time.Nanosecond }},
		{name: "existing paths", edit: func(c *config.Config) { c.PGBinDir = dir; c.WorkflowFile = file }},

		{name: "no port", edit: func(c *config.Config) { c.HTTPAddr = "127.0.0.1" }, wantKeys: []string{"http_addr"}},
		{name: "empty port", edit: func(c *config.Config) { c.HTTPAddr = "127.0.0.1:" }, wantKeys: []string{"http_addr"}},
		{name: "port too big", edit: func(c *config.Config) { c.HTTPAddr = "127.0.0.1:65536" }, wantKeys: []string{"http_addr"}},
		{name: "empty addr", edit: func(c *config.Config) { c.HTTPAddr = "" }, wantKeys: []string{"http_addr"}},
		{name: "empty data dir", edit: func(c *config.Config) { c.DataDir = " " }, wantKeys: []string{"data_dir"}},
		{name: "other scheme", edit: func(c *config.Config) { c.DatabaseURL = "mysql://db/x" }, wantKeys: []string{"database_url"}},
		{name: "bad URL", edit: func(c *config.Config) { c.DatabaseURL = "postgres://db:port/x" }, wantKeys: []string{"database_url"}},
		{name: "not a DSN", edit: func(c *config.Config) { c.DatabaseURL = "localhost/dx" }, wantKeys: []string{"database_url"}},
		{name: "unterminated quote", edit: func(c *config.Config) { c.DatabaseURL = "host='db" }, wantKeys: []string{"database_url"}},
		{name: "empty timezone", edit: func(c *config.Config) { c.Timezone = "" }, wantKeys: []string{"timezone"}},
		{name: "unknown timezone", edit: func(c *config.Config) { c.Timezone = "Mars/Olympus_Mons" }, wantKeys: []string{"timezone"}},
		{name: "log level", edit: func(c *config.Config) { c.LogLevel = "trace" }, wantKeys: []string{"log_level"}},
		{name: "log format", edit: func(c *config.Config) { c.LogFormat = "logfmt" }, wantKeys: []string{"log_format"}},
		{name: "zero timeout", edit: func(c *config.Config) { c.ShutdownTimeout = 0 }, wantKeys: []string{"shutdown_timeout"}},
		{name: "negative timeout", edit: func(c *config.Config) { c.ShutdownTimeout = -time.Second }, wantKeys: []string{"shutdown_timeout"}},
		{name: "no connections", edit: func(c *config.Config) { c.DBMaxConns = 0 }, wantKeys: []string{"db_max_conns"}},
		{name: "too many connections", edit: func(c *config.Config) { c.DBMaxConns = 1001 }, wantKeys: []string{"db_max_conns"}},
		{name: "no deadline flags", edit: func(c *config.Config) { c.DeadlineFlagsPerTick = 0 }, wantKeys: []string{"deadline_flags_per_tick"}},
		{name: "missing bin dir", edit: func(c *config.Config) { c.PGBinDir = missing }, wantKeys: []string{"pg_bin_dir"}},
		{name: "bin dir is a file", edit: func(c *config.Config) { c.PGBinDir = file }, wantKeys: []string{"pg_bin_dir"}},
		{name: "missing workflow", edit: func(c *config.Config) { c.WorkflowFile = missing }, wantKeys: []string{"workflow_file"}},
		{name: "workflow is a dir", edit: func(c *config.Config) { c.WorkflowFile = dir }, wantKeys: []string{"workflow_file"}},
		{name: "api url without scheme", edit: func(c *config.Config) { c.APIURL = "localhost:8080" }, wantKeys: []string{"api_url"}},
		{
			name: "everything at once",
			edit: func(c *config.Config) {
				*c = config.Config{PGBinDir: missing, WorkflowFile: missing, DatabaseURL: "x"}
			},
			wantKeys: everyCheckedKey,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			tt.edit(&c)
			err := c.Validate()
			if got := badKeys(err); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("Validate() bad keys = %q, want %q (error: %v)", got, tt.wantKeys, err)
			}
			if len(leaves(err)) != len(tt.wantKeys) {
				t.Errorf("Validate() = %d errors, want %d: %v", len(leaves(err)), len(tt.wantKeys), err)
			}
		})
	}
}

func TestLoadWrongType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		yaml       string
		env        []string
		wantKey    string
		wantSource string // "file" stands for the file's path
	}{
		{name: "duration text", yaml: `shutdown_timeout: "abc"`, wantKey: "shutdown_timeout", wantSource: "file"},
		{name: "duration without unit", yaml: `shutdown_timeout: 15`, wantKey: "shutdown_timeout", wantSource: "file"},
		{name: "duration list", yaml: `shutdown_timeout: [1s]`, wantKey: "shutdown_timeout", wantSource: "file"},
		{name: "int text", yaml: `db_max_conns: "x"`, wantKey: "db_max_conns", wantSource: "file"},
		{name: "int fraction", yaml: `db_max_conns: 2.5`, wantKey: "db_max_conns", wantSource: "file"},
		{name: "int boolean", yaml: `db_max_conns: true`, wantKey: "db_max_conns", wantSource: "file"},
		{name: "string list", yaml: `http_addr: [a, b]`, wantKey: "http_addr", wantSource: "file"},
		{name: "string mapping", yaml: "timezone:\n  name: UTC\n", wantKey: "timezone", wantSource: "file"},
		{name: "env int", env: []string{"DXLEDGER_DB_MAX_CONNS=x"}, wantKey: "db_max_conns", wantSource: "environment"},
		{name: "env duration", env: []string{"DXLEDGER_SHUTDOWN_TIMEOUT=abc"}, wantKey: "shutdown_timeout", wantSource: "environment"},
		{name: "env empty int", env: []string{"DXLEDGER_DB_MAX_CONNS="}, wantKey: "db_max_conns", wantSource: "environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			wantSource := tt.wantSource
			if tt.yaml != "" {
				path := writeFile(t, dir, config.DefaultFile, tt.yaml+"\n")
				if wantSource == "file" {
					wantSource = "file " + path
				}
			}
			_, err := config.Load(config.Sources{WorkDir: dir, Environ: tt.env})
			kes := keyErrors(err)
			if len(kes) != 1 || len(leaves(err)) != 1 {
				t.Fatalf("Load() error = %v, want exactly one error for %s", err, tt.wantKey)
			}
			if kes[0].Key != tt.wantKey || kes[0].Source != wantSource {
				t.Errorf("KeyError = {Key: %q, Source: %q}, want {Key: %q, Source: %q}",
					kes[0].Key, kes[0].Source, tt.wantKey, wantSource)
			}
		})
	}
}

func TestLoadSourceOfBadValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		yaml       string
		env        []string
		args       []string
		wantSource string // "file" stands for the file's path
	}{
		{name: "flag", env: []string{"DXLEDGER_DB_MAX_CONNS=5"}, args: []string{"--db-max-conns", "0"}, wantSource: "flag --db-max-conns"},
		{name: "env under an unset flag", env: []string{"DXLEDGER_DB_MAX_CONNS=0"}, args: []string{"--log-level", "warn"}, wantSource: "environment"},
		{
			name:       "file, with a flag replacing its other bad value",
			yaml:       "db_max_conns: 0\nlog_level: loud\n",
			args:       []string{"--db-max-conns", "20"},
			wantSource: "file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			wantSource := tt.wantSource
			if tt.yaml != "" {
				path := writeFile(t, dir, config.DefaultFile, tt.yaml)
				if wantSource == "file" {
					wantSource = "file " + path
				}
			}
			_, err := config.Load(config.Sources{WorkDir: dir, Environ: tt.env, Flags: parseFlags(t, tt.args)})
			kes := keyErrors(err)
			if len(kes) != 1 || kes[0].Source != wantSource {
				t.Fatalf("Load() error = %v, want one error from %s", err, wantSource)
			}
			if msg := kes[0].Error(); !strings.Contains(msg, wantSource) {
				t.Errorf("error %q does not say it came from %s", msg, wantSource)
			}
		})
	}
}

func TestValidateHidesDatabasePassword(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://dx:hunter2@db:port/x",
		"postgres://dx:hunter2@db/x%zz",
		"mysql://dx:hunter2@db/x",
		"host=db password=hunter2 'oops",
	} {
		c := config.Default()
		c.DatabaseURL = url
		err := c.Validate()
		if got := badKeys(err); !slices.Equal(got, []string{"database_url"}) {
			t.Errorf("Validate() with database_url %q: bad keys = %q, want [database_url]", url, got)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Validate() error = %q, shows the password", err)
		}
	}
}

func TestLoadConfigFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	malformed := writeFile(t, dir, "malformed.yaml", "http_addr: [\n")
	tests := []struct {
		name     string
		s        config.Sources
		args     []string
		wantPath string
		wantIs   error // nil: any error
	}{
		{name: "explicit missing", s: config.Sources{File: missing}, wantPath: missing, wantIs: fs.ErrNotExist},
		{name: "missing via --config", args: []string{"--config", missing}, wantPath: missing, wantIs: fs.ErrNotExist},
		{name: "directory", s: config.Sources{File: dir}, wantPath: dir},
		{name: "malformed YAML", s: config.Sources{File: malformed}, wantPath: malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.s
			s.Flags = parseFlags(t, tt.args)
			_, err := config.Load(s)
			if err == nil {
				t.Fatal("Load() error = nil, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Load() error = %v, want one matching %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantPath) {
				t.Errorf("Load() error = %v, want it to name %s", err, tt.wantPath)
			}
		})
	}
}

func TestLoadImplicitMissingFileIsFine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "dxledger.yml", "http_addr: [\n") // another name: not read
	got, err := config.Load(config.Sources{WorkDir: dir})
	if err != nil {
		t.Fatalf("Load() error = %v, want nil", err)
	}
	sameConfig(t, got, config.Default())
}

func TestRegisterFlags(t *testing.T) {
	t.Parallel()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	tests := []struct {
		flag    string
		wantDef string // "-" means the flag must not exist
	}{
		{"config", ""},
		{"addr", "127.0.0.1:8080"},
		{"data-dir", "./dxledger-data"},
		{"database-url", ""},
		{"bootstrap-token", "-"},
		{"timezone", "Asia/Ho_Chi_Minh"},
		{"log-level", "info"},
		{"log-format", "text"},
		{"shutdown-timeout", "15s"},
		{"readiness-max-lag", "30s"},
		{"pg-bin-dir", ""},
		{"workflow-file", ""},
		{"db-max-conns", "20"},
	}
	for _, tt := range tests {
		f := fs.Lookup(tt.flag)
		switch {
		case tt.wantDef == "-" && f != nil:
			t.Errorf("flag --%s exists, want none", tt.flag)
		case tt.wantDef != "-" && f == nil:
			t.Errorf("flag --%s missing", tt.flag)
		case f != nil && f.DefValue != tt.wantDef:
			t.Errorf("flag --%s default = %q, want %q", tt.flag, f.DefValue, tt.wantDef)
		}
	}
}

func TestSlogLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level string
		want  slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"info", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"error", slog.LevelError},
		{"bogus", slog.LevelInfo},
	}
	for _, tt := range tests {
		if got := (config.Config{LogLevel: tt.level}).SlogLevel(); got != tt.want {
			t.Errorf("SlogLevel(%q) = %v, want %v", tt.level, got, tt.want)
		}
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		wantShow string
	}{
		{name: "URL", url: "postgres://dx:hunter2@db.example:5432/dx", wantShow: "db.example"},
		{name: "URL query", url: "postgres://db.example/dx?password=hunter2&sslmode=disable", wantShow: "sslmode=disable"},
		{name: "key=value", url: "host=db.example password='hunter2 x' dbname=dx", wantShow: "host=db.example"},
		{name: "invalid", url: "host='hunter2", wantShow: "database_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			c.DatabaseURL = tt.url
			c.BootstrapToken = "tok-hunter2"
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c)
			got := buf.String()
			if strings.Contains(got, "hunter2") {
				t.Errorf("log = %q, shows a secret", got)
			}
			if !strings.Contains(got, tt.wantShow) || !strings.Contains(got, "bootstrap_token_set=true") {
				t.Errorf("log = %q, want it to show %q and bootstrap_token_set=true", got, tt.wantShow)
			}
		})
	}
}
