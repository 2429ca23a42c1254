// Package config loads dxledger's settings from defaults, a YAML file, DXLEDGER_*
// environment variables and command-line flags, in that order of precedence, into a typed
// Config.
//
// Every setting has a flat snake_case key (http_addr), used as is in the YAML file; its
// environment variable is DXLEDGER_ followed by the key in upper case (DXLEDGER_HTTP_ADDR).
// A key the file does not know and a DXLEDGER_ variable that names no key are errors, so a
// typo is reported instead of silently ignored.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix starts the name of every environment variable Load reads.
const EnvPrefix = "DXLEDGER_"

// DefaultFile is the config file Load reads from Sources.WorkDir when no file is named
// explicitly, if it exists.
const DefaultFile = "dxledger.yaml"

// ConfigFlag is the name of the flag, defined by RegisterFlags, that names the config file.
const ConfigFlag = "config"

// Config is dxledger's complete configuration. Load fills it and validates it; Default
// returns the values used when nothing else is set.
type Config struct {
	// HTTPAddr is the host:port the HTTP server listens on (key http_addr).
	HTTPAddr string
	// DataDir is the data directory; the embedded PostgreSQL cluster lives in DataDir/pg
	// (key data_dir).
	DataDir string
	// DatabaseURL is a PostgreSQL URL or key=value connection string; empty means start the
	// embedded cluster (key database_url). It may hold a password: never log it as is.
	DatabaseURL string
	// BootstrapToken, when set and no administrator exists yet, becomes the bearer token of
	// a first administrator (key bootstrap_token; environment or file only, never a flag).
	BootstrapToken string
	// Timezone is the IANA name of the province's time zone (key timezone).
	Timezone string
	// Location is Timezone loaded with time.LoadLocation. Load and Default fill it.
	Location *time.Location
	// LogLevel is one of debug, info, warn or error (key log_level); see SlogLevel.
	LogLevel string
	// LogFormat is text or json (key log_format).
	LogFormat string
	// ShutdownTimeout bounds a graceful shutdown (key shutdown_timeout, a Go duration).
	ShutdownTimeout time.Duration
	// ReadinessMaxLag is how far behind the store's head a projection may be (the age of the
	// oldest event it has not applied) before GET /readyz answers 503 (key
	// readiness_max_lag, a Go duration).
	ReadinessMaxLag time.Duration
	// PGBinDir is the directory holding initdb and pg_ctl; empty means search PATH, then
	// /usr/lib/postgresql/*/bin (key pg_bin_dir).
	PGBinDir string
	// WorkflowFile is an optional YAML workflow definition that replaces the embedded
	// default (key workflow_file).
	WorkflowFile string
	// DTIFrameworksDir is an optional folder of YAML DTI frameworks that add to or replace the
	// embedded ones (key dti_frameworks_dir; workflows/dtiframe).
	DTIFrameworksDir string
	// DBMaxConns is the size of the database connection pool, 1 to 1000 (key db_max_conns).
	DBMaxConns int
	// DeadlineFlagsPerTick bounds the deadline flags the deadline manager's clock ticks append
	// a minute, 1 to 1,000,000 (key deadline_flags_per_tick): a store with years of history
	// has its overdue items flagged a tick's worth at a time, beside the users' commands.
	DeadlineFlagsPerTick int
	// APIURL is the server the terminal client talks to (key api_url).
	APIURL string
	// Token is the terminal client's bearer token (key token; environment or file only). It
	// is a secret: never log it.
	Token string
	// TokenTTL is how long a bearer token lives when its maker does not say (key token_ttl,
	// a Go duration).
	TokenTTL time.Duration
	// SessionIdleTimeout ends a web session not used for this long (key
	// session_idle_timeout).
	SessionIdleTimeout time.Duration
	// SessionTTL is the longest a web session lasts, however busy (key session_ttl).
	SessionTTL time.Duration
	// MetricsAddr, when set, serves /metrics on this host:port alone instead of the main
	// address (key metrics_addr).
	MetricsAddr string
	// MetricsToken, when set, is the bearer token /metrics on the main address asks for (key
	// metrics_token; environment or file only). With neither, /metrics answers loopback
	// clients only.
	MetricsToken string
	// TrustedProxies are the comma-separated addresses or CIDR ranges of proxies whose
	// X-Forwarded-For names the client (key trusted_proxies); from anyone else it is ignored.
	TrustedProxies string
	// RebuildTempDir is where `dxledger rebuild` spills its sorts (about 160 bytes an event
	// of the store at most); empty means <data_dir>/rebuild-tmp, or the system's temporary
	// directory when there is no data directory (key rebuild_temp_dir). See SpillDir.
	RebuildTempDir string
	// File is the config file Load read, or "" if it read none. It is not a setting.
	File string
}

// Default returns the configuration used when no file, environment variable or flag sets
// anything. Location is nil only if the machine cannot load the default time zone.
func Default() Config {
	c := Config{
		HTTPAddr:             "127.0.0.1:8080",
		DataDir:              "./dxledger-data",
		Timezone:             "Asia/Ho_Chi_Minh",
		LogLevel:             "info",
		LogFormat:            "text",
		ShutdownTimeout:      15 * time.Second,
		ReadinessMaxLag:      30 * time.Second,
		DBMaxConns:           20,
		DeadlineFlagsPerTick: 1000,
		APIURL:               "http://127.0.0.1:8080",
		TokenTTL:             90 * 24 * time.Hour,
		SessionIdleTimeout:   30 * time.Minute,
		SessionTTL:           12 * time.Hour,
	}
	if loc, err := time.LoadLocation(c.Timezone); err == nil {
		c.Location = loc
	}
	return c
}

// setting describes one key: its flag, how to reach its field and how to check its value.
type setting struct {
	key    string
	flag   string // "" when the key has no flag
	usage  string
	secret bool                 // never repeat the value in an error or a log
	field  func(c *Config) any  // *string, *int or *time.Duration
	check  func(c Config) error // nil when every value of the field's type is fine
}

var settings = []setting{
	{key: "http_addr", flag: "addr", usage: "listen address, host:port",
		field: func(c *Config) any { return &c.HTTPAddr }, check: checkHTTPAddr},
	{key: "data_dir", flag: "data-dir", usage: "data directory; the embedded PostgreSQL lives in <data-dir>/pg",
		field: func(c *Config) any { return &c.DataDir }, check: checkDataDir},
	{key: "database_url", flag: "database-url", usage: "PostgreSQL URL; empty starts the embedded cluster", secret: true,
		field: func(c *Config) any { return &c.DatabaseURL }, check: checkDatabaseURL},
	{key: "bootstrap_token", usage: "bearer token of the first administrator", secret: true,
		field: func(c *Config) any { return &c.BootstrapToken }},
	{key: "timezone", flag: "timezone", usage: "the province's IANA time zone",
		field: func(c *Config) any { return &c.Timezone }, check: checkTimezone},
	{key: "log_level", flag: "log-level", usage: "log level: debug, info, warn or error",
		field: func(c *Config) any { return &c.LogLevel }, check: checkLogLevel},
	{key: "log_format", flag: "log-format", usage: "log format: text or json",
		field: func(c *Config) any { return &c.LogFormat }, check: checkLogFormat},
	{key: "shutdown_timeout", flag: "shutdown-timeout", usage: "graceful shutdown budget",
		field: func(c *Config) any { return &c.ShutdownTimeout }, check: checkShutdownTimeout},
	{key: "readiness_max_lag", flag: "readiness-max-lag", usage: "how far behind the store a projection may be before /readyz answers 503",
		field: func(c *Config) any { return &c.ReadinessMaxLag }, check: checkReadinessMaxLag},
	{key: "pg_bin_dir", flag: "pg-bin-dir", usage: "directory of initdb and pg_ctl; empty searches PATH, then /usr/lib/postgresql/*/bin",
		field: func(c *Config) any { return &c.PGBinDir }, check: checkPGBinDir},
	{key: "workflow_file", flag: "workflow-file", usage: "YAML workflow definition replacing the embedded default",
		field: func(c *Config) any { return &c.WorkflowFile }, check: checkWorkflowFile},
	{key: "dti_frameworks_dir", flag: "dti-frameworks-dir", usage: "folder of YAML DTI frameworks adding to or replacing the embedded ones",
		field: func(c *Config) any { return &c.DTIFrameworksDir }, check: checkDTIFrameworksDir},
	{key: "db_max_conns", flag: "db-max-conns", usage: "database connection pool size, 1 to 1000",
		field: func(c *Config) any { return &c.DBMaxConns }, check: checkDBMaxConns},
	{key: "deadline_flags_per_tick", flag: "deadline-flags-per-tick", usage: "deadline flags the manager appends a minute at most, 1 to 1000000",
		field: func(c *Config) any { return &c.DeadlineFlagsPerTick }, check: checkDeadlineFlags},
	{key: "api_url", flag: "api-url", usage: "the server the terminal client talks to",
		field: func(c *Config) any { return &c.APIURL }, check: checkAPIURL},
	{key: "token", usage: "the terminal client's bearer token (environment or file only, never a flag)", secret: true,
		field: func(c *Config) any { return &c.Token }},
	{key: "token_ttl", flag: "token-ttl", usage: "how long a bearer token lives unless its maker says (1h to 3650 days)",
		field: func(c *Config) any { return &c.TokenTTL }, check: checkTokenTTL},
	{key: "session_idle_timeout", flag: "session-idle-timeout", usage: "a web session unused this long ends",
		field: func(c *Config) any { return &c.SessionIdleTimeout }, check: checkIdle},
	{key: "session_ttl", flag: "session-ttl", usage: "the longest a web session lasts",
		field: func(c *Config) any { return &c.SessionTTL }, check: checkSessions},
	{key: "metrics_addr", flag: "metrics-addr", usage: "serve /metrics on this host:port alone instead of the main address",
		field: func(c *Config) any { return &c.MetricsAddr }, check: checkMetricsAddr},
	{key: "metrics_token", usage: "bearer token /metrics asks for on the main address (environment or file only)", secret: true,
		field: func(c *Config) any { return &c.MetricsToken }, check: checkMetricsToken},
	{key: "trusted_proxies", flag: "trusted-proxies", usage: "comma-separated proxy addresses or CIDR ranges whose X-Forwarded-For is believed",
		field: func(c *Config) any { return &c.TrustedProxies }, check: checkTrustedProxies},
	{key: "rebuild_temp_dir", flag: "rebuild-temp-dir", usage: "where rebuild spills its sorts; empty: <data-dir>/rebuild-tmp (the system temp dir without a data dir)",
		field: func(c *Config) any { return &c.RebuildTempDir }},
}

// SpillDir is where a rebuild spills its sorts: RebuildTempDir, else the data directory's
// rebuild-tmp when the data directory exists (the embedded cluster's home), else "" (the
// system's temporary directory: with an external database_url and no data directory there
// is no better place to assume).
func (c Config) SpillDir() string {
	if c.RebuildTempDir != "" {
		return c.RebuildTempDir
	}
	if fi, err := os.Stat(c.DataDir); err == nil && fi.IsDir() {
		return filepath.Join(c.DataDir, "rebuild-tmp")
	}
	return ""
}

func checkDeadlineFlags(c Config) error {
	if c.DeadlineFlagsPerTick < 1 || c.DeadlineFlagsPerTick > 1_000_000 {
		return fmt.Errorf("%d is not from 1 to 1000000", c.DeadlineFlagsPerTick)
	}
	return nil
}

func checkTokenTTL(c Config) error {
	if c.TokenTTL < time.Hour || c.TokenTTL > 3650*24*time.Hour {
		return fmt.Errorf("%s is not from 1h to 87600h (3650 days)", c.TokenTTL)
	}
	return nil
}

func checkIdle(c Config) error {
	if c.SessionIdleTimeout < time.Minute {
		return fmt.Errorf("%s is below 1m", c.SessionIdleTimeout)
	}
	return nil
}

func checkSessions(c Config) error {
	if c.SessionTTL < time.Minute || c.SessionTTL > 30*24*time.Hour {
		return fmt.Errorf("%s is not from 1m to 720h", c.SessionTTL)
	}
	return nil
}

func checkMetricsAddr(c Config) error {
	if c.MetricsAddr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		return fmt.Errorf("want host:port: %v", err)
	}
	return nil
}

func checkMetricsToken(c Config) error {
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return errors.New("use at least 16 characters")
	}
	return nil
}

// ParseProxies reads trusted_proxies: addresses and CIDR ranges, comma-separated.
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR range", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func checkTrustedProxies(c Config) error {
	_, err := ParseProxies(c.TrustedProxies)
	return err
}

func checkAPIURL(c Config) error {
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an http:// or https:// URL with a host")
	}
	return nil
}

// envName returns the environment variable of key.
func envName(key string) string { return EnvPrefix + strings.ToUpper(key) }

// RegisterFlags defines --config and one flag per setting that has one on fs. The flags'
// defaults are Default's values; Load only looks at flags the user set.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String(ConfigFlag, "", "YAML config file (default ./"+DefaultFile+" if it exists)")
	def := Default()
	for _, s := range settings {
		if s.flag == "" {
			continue
		}
		usage := s.usage + " (" + envName(s.key) + ")"
		switch p := s.field(&def).(type) {
		case *string:
			fs.String(s.flag, *p, usage)
		case *int:
			fs.Int(s.flag, *p, usage)
		case *time.Duration:
			fs.Duration(s.flag, *p, usage)
		default:
			panic(fmt.Sprintf("config: setting %s has field type %T", s.key, p))
		}
	}
}

// Sources says where Load reads from. Nothing is read from the process environment
// directly.
type Sources struct {
	// File is an explicit config file path (--config); it must exist. "" means
	// ./dxledger.yaml in WorkDir if it exists, else no file; when File is "" and Flags has
	// a --config the user set, that flag's value is used as File.
	File string
	// WorkDir is the directory to look for dxledger.yaml in when File is ""; "" is the
	// current directory.
	WorkDir string
	// Environ holds "KEY=value" pairs, as os.Environ returns. Only names starting with
	// DXLEDGER_ are read; a variable that is set overrides even when its value is empty.
	Environ []string
	// Flags holds parsed flags; only flags the user set (Changed) override. It may be nil.
	Flags *pflag.FlagSet
}

// Load builds the configuration: defaults, overridden by the config file, overridden by
// DXLEDGER_* variables in s.Environ, overridden by the flags the user set in s.Flags. It
// reports every unknown key, unknown variable, badly typed and invalid value at once, joined
// with errors.Join, as *UnknownKeyError and *KeyError values. A missing explicit file is an
// error that wraps fs.ErrNotExist. On error Load returns the zero Config.
func Load(s Sources) (Config, error) {
	v := viper.New()
	def := Default()
	origin := make(map[string]string, len(settings))
	for _, st := range settings {
		v.SetDefault(st.key, fieldValue(st.field(&def)))
		origin[st.key] = "default"
	}
	var errs []error

	// Config file. Viper's config layer starts with the file alone.
	path, err := configFile(s)
	if err != nil {
		return Config{}, err
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config file: %w", err)
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", path, err)
		}
		var unknown []string
		for _, k := range v.AllKeys() {
			top, _, _ := strings.Cut(k, ".")
			if !isKey(top) && !slices.Contains(unknown, top) {
				unknown = append(unknown, top)
			}
		}
		slices.Sort(unknown)
		for _, k := range unknown {
			errs = append(errs, &UnknownKeyError{Name: k, File: path, Suggestion: suggest(k)})
		}
		for _, st := range settings {
			if v.InConfig(st.key) {
				origin[st.key] = "file " + path
			}
		}
	}

	// Environment. Viper only reads the process environment, so Environ is merged over the
	// file's values in viper's config layer, which flags still override.
	env := make(map[string]any)
	var unknownEnv []string
	for _, kv := range s.Environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
		if !isKey(key) || envName(key) != name {
			if !slices.Contains(unknownEnv, name) {
				unknownEnv = append(unknownEnv, name)
			}
			continue
		}
		env[key] = val
		origin[key] = "environment"
	}
	slices.Sort(unknownEnv)
	for _, name := range unknownEnv {
		sug := ""
		if k := suggest(strings.ToLower(strings.TrimPrefix(name, EnvPrefix))); k != "" {
			sug = envName(k)
		}
		errs = append(errs, &UnknownKeyError{Name: name, Suggestion: sug})
	}
	if err := v.MergeConfigMap(env); err != nil {
		return Config{}, fmt.Errorf("merge environment: %w", err)
	}

	// Flags: viper uses a bound flag only when the user set it.
	if s.Flags != nil {
		for _, st := range settings {
			if st.flag == "" {
				continue
			}
			f := s.Flags.Lookup(st.flag)
			if f == nil {
				continue
			}
			if err := v.BindPFlag(st.key, f); err != nil {
				return Config{}, fmt.Errorf("bind flag --%s: %w", st.flag, err)
			}
			if f.Changed {
				origin[st.key] = "flag --" + st.flag
			}
		}
	}

	var c Config
	c.File = path
	badType := make(map[string]bool)
	for _, st := range settings {
		if err := decode(st.field(&c), v.Get(st.key), st.secret); err != nil {
			badType[st.key] = true
			errs = append(errs, &KeyError{Key: st.key, Source: origin[st.key], Err: err})
		}
	}
	errs = append(errs, c.validate(badType, origin)...)
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil { // cannot happen: checkTimezone has loaded it
		return Config{}, &KeyError{Key: "timezone", Source: origin["timezone"], Err: err}
	}
	c.Location = loc
	return c, nil
}

// configFile returns the file Load should read, or "" for none.
func configFile(s Sources) (string, error) {
	path := s.File
	if path == "" && s.Flags != nil {
		if f := s.Flags.Lookup(ConfigFlag); f != nil && f.Changed {
			path = f.Value.String()
		}
	}
	if path != "" {
		info, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("config file: %w", err)
		}
		if info.IsDir() {
			return "", fmt.Errorf("config file %s is a directory", path)
		}
		return path, nil
	}
	path = filepath.Join(s.WorkDir, DefaultFile)
	_, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("config file: %w", err)
	}
	return path, nil
}

// fieldValue returns the value a field pointer points to.
func fieldValue(p any) any {
	switch p := p.(type) {
	case *string:
		return *p
	case *int:
		return *p
	case *time.Duration:
		return *p
	}
	panic(fmt.Sprintf("config: unexpected field type %T", p))
}

// decode stores raw, as viper returns it from a default, the YAML file, the environment or a
// flag, into the field p points to.
func decode(p any, raw any, secret bool) error {
	show := func(v any) string {
		if secret {
			return "the value"
		}
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	switch p := p.(type) {
	case *string:
		switch v := raw.(type) {
		case nil:
			*p = ""
		case string:
			*p = v
		case bool, int, int64, uint64, float64:
			*p = fmt.Sprint(v) // a YAML scalar written without quotes
		default:
			return fmt.Errorf("want a string, got %s", describe(raw))
		}
	case *int:
		switch v := raw.(type) {
		case int:
			*p = v
		case int64:
			if int64(int(v)) != v {
				return fmt.Errorf("%d is out of range", v)
			}
			*p = int(v)
		case uint64:
			if v > uint64(^uint(0)>>1) {
				return fmt.Errorf("%d is out of range", v)
			}
			*p = int(v)
		case float64:
			if v != float64(int(v)) {
				return fmt.Errorf("%v is not a whole number", v)
			}
			*p = int(v)
		case string:
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%s is not a whole number", show(v))
			}
			*p = n
		default:
			return fmt.Errorf("want a whole number, got %s", describe(raw))
		}
	case *time.Duration:
		switch v := raw.(type) {
		case time.Duration:
			*p = v
		case string:
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%s is not a duration such as 15s or 1m30s", show(v))
			}
			*p = d
		case int, int64, uint64, float64:
			return fmt.Errorf("%v has no unit: write a duration such as 15s or 1m30s", v)
		default:
			return fmt.Errorf("want a duration such as 15s, got %s", describe(raw))
		}
	default:
		panic(fmt.Sprintf("config: unexpected field type %T", p))
	}
	return nil
}

// describe names the kind of a decoded YAML value for an error message.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "no value"
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("a %T", v)
}

// isKey reports whether key is a configuration key.
func isKey(key string) bool {
	return slices.ContainsFunc(settings, func(s setting) bool { return s.key == key })
}

// suggest returns the known key closest to name, or "" if none is close.
func suggest(name string) string {
	name = strings.ReplaceAll(strings.ToLower(name), "-", "_")
	best, bestDist := "", 3 // suggest only within two edits
	for _, s := range settings {
		if d := editDistance(name, s.key); d < bestDist {
			best, bestDist = s.key, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Validate reports every invalid value at once, joined with errors.Join; each is a
// *KeyError naming the key and its environment variable. Relative paths are checked against
// the current directory. Validate does not look at Location.
func (c Config) Validate() error {
	return errors.Join(c.validate(nil, nil)...)
}

// validate checks every key not in skip; origin, when not nil, says where each value came
// from.
func (c Config) validate(skip map[string]bool, origin map[string]string) []error {
	var errs []error
	for _, s := range settings {
		if s.check == nil || skip[s.key] {
			continue
		}
		if err := s.check(c); err != nil {
			errs = append(errs, &KeyError{Key: s.key, Source: origin[s.key], Err: err})
		}
	}
	return errs
}

func checkHTTPAddr(c Config) error {
	_, port, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", c.HTTPAddr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", c.HTTPAddr, port)
	}
	return nil
}

func checkDataDir(c Config) error {
	if strings.TrimSpace(c.DataDir) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

// checkDatabaseURL accepts a postgres:// or postgresql:// URL or a key=value connection
// string. Its messages never repeat the value, which may hold a password.
func checkDatabaseURL(c Config) error {
	if c.DatabaseURL == "" {
		return nil
	}
	if strings.Contains(c.DatabaseURL, "://") {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil {
			if ue, ok := errors.AsType[*url.Error](err); ok {
				err = ue.Err // url.Error repeats the whole URL
			}
			return fmt.Errorf("not a valid URL: %w", err)
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			return fmt.Errorf("URL scheme is %q, want postgres or postgresql", u.Scheme)
		}
		return nil
	}
	if _, err := parseDSN(c.DatabaseURL); err != nil {
		return fmt.Errorf("neither a postgres:// URL nor a key=value connection string: %w", err)
	}
	return nil
}

// dsnPair is one keyword=value of a libpq connection string.
type dsnPair struct{ key, value string }

// parseDSN splits a libpq key=value connection string. Values may be single-quoted, with
// backslash escapes. It does not check the keywords.
func parseDSN(s string) ([]dsnPair, error) {
	var pairs []dsnPair
	isSpace := func(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }
	i := 0
	skip := func() {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	for {
		skip()
		if i == len(s) {
			break
		}
		start := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[start:i]
		skip()
		if key == "" || i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("pair %d has no keyword=", len(pairs)+1)
		}
		i++ // '='
		skip()
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			for {
				if i == len(s) {
					return nil, fmt.Errorf("unterminated quoted value for %s", key)
				}
				if s[i] == '\'' {
					i++
					break
				}
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
				i++
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
				i++
			}
		}
		pairs = append(pairs, dsnPair{key: key, value: val.String()})
	}
	if len(pairs) == 0 {
		return nil, errors.New("empty")
	}
	return pairs, nil
}

func checkTimezone(c Config) error {
	if c.Timezone == "" {
		return errors.New("must not be empty; write UTC for UTC")
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return fmt.Errorf("cannot load time zone: %w", err)
	}
	return nil
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

func checkLogLevel(c Config) error {
	if _, ok := logLevels[c.LogLevel]; !ok {
		return fmt.Errorf("%q is not one of debug, info, warn, error", c.LogLevel)
	}
	return nil
}

func checkLogFormat(c Config) error {
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("%q is not one of text, json", c.LogFormat)
	}
	return nil
}

func checkShutdownTimeout(c Config) error {
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("%s is not above zero", c.ShutdownTimeout)
	}
	return nil
}

func checkReadinessMaxLag(c Config) error {
	if c.ReadinessMaxLag <= 0 {
		return fmt.Errorf("%s is not above zero", c.ReadinessMaxLag)
	}
	return nil
}

func checkDBMaxConns(c Config) error {
	if c.DBMaxConns < 1 || c.DBMaxConns > 1000 {
		return fmt.Errorf("%d is not from 1 to 1000", c.DBMaxConns)
	}
	return nil
}

func checkPGBinDir(c Config) error {
	if c.PGBinDir == "" {
		return nil
	}
	info, err := os.Stat(c.PGBinDir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", c.PGBinDir)
	}
	return nil
}

func checkDTIFrameworksDir(c Config) error {
	if c.DTIFrameworksDir == "" {
		return nil
	}
	info, err := os.Stat(c.DTIFrameworksDir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a folder", c.DTIFrameworksDir)
	}
	return nil
}

func checkWorkflowFile(c Config) error {
	if c.WorkflowFile == "" {
		return nil
	}
	info, err := os.Stat(c.WorkflowFile)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", c.WorkflowFile)
	}
	return nil
}

// SlogLevel returns LogLevel as a slog.Level; a value Validate would refuse gives
// slog.LevelInfo.
func (c Config) SlogLevel() slog.Level {
	if l, ok := logLevels[c.LogLevel]; ok {
		return l
	}
	return slog.LevelInfo
}

// LogValue implements slog.LogValuer so that logging a Config never shows a secret: the
// bootstrap token is only said to be set or not, and the database URL's password is masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("config_file", c.File),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("data_dir", c.DataDir),
		slog.String("database_url", redactDatabaseURL(c.DatabaseURL)),
		slog.Bool("bootstrap_token_set", c.BootstrapToken != ""),
		slog.String("timezone", c.Timezone),
		slog.String("log_level", c.LogLevel),
		slog.String("log_format", c.LogFormat),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Duration("readiness_max_lag", c.ReadinessMaxLag),
		slog.String("pg_bin_dir", c.PGBinDir),
		slog.String("workflow_file", c.WorkflowFile),
		slog.String("dti_frameworks_dir", c.DTIFrameworksDir),
		slog.Int("db_max_conns", c.DBMaxConns),
		slog.String("rebuild_temp_dir", c.RebuildTempDir),
	)
}

// redacted replaces a password in logs.
const redacted = "xxxxx"

// redactDatabaseURL masks the password of a URL or key=value connection string.
func redactDatabaseURL(s string) string {
	if s == "" {
		return ""
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "(invalid)"
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", redacted)
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	pairs, err := parseDSN(s)
	if err != nil {
		return "(invalid)"
	}
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		if p.key == "password" {
			p.value = redacted
		}
		parts[i] = p.key + "=" + quoteDSN(p.value)
	}
	return strings.Join(parts, " ")
}

// quoteDSN quotes a connection string value when it needs it.
func quoteDSN(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r'\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// KeyError reports a bad value for one configuration key.
type KeyError struct {
	// Key is the configuration key, such as http_addr.
	Key string
	// Source says where the value came from: "default", "file <path>", "environment" or
	// "flag --<name>"; "" when unknown, as in Validate.
	Source string
	// Err says what is wrong with the value.
	Err error
}

// Error names the key, its environment variable and, when known, where the value came
// from.
func (e *KeyError) Error() string {
	from := ""
	if e.Source != "" {
		from = " from " + e.Source
	}
	return fmt.Sprintf("%s (%s)%s: %v", e.Key, envName(e.Key), from, e.Err)
}

// Unwrap returns Err.
func (e *KeyError) Unwrap() error { return e.Err }

// UnknownKeyError reports a key in the config file, or a DXLEDGER_ environment variable,
// that names no setting.
type UnknownKeyError struct {
	// Name is the key as found in File, or the environment variable's name.
	Name string
	// File is the config file, or "" for an environment variable.
	File string
	// Suggestion is the closest known key or variable, or "".
	Suggestion string
}

// Error names the unknown key and the file, or the unknown variable.
func (e *UnknownKeyError) Error() string {
	var msg string
	if e.File != "" {
		msg = fmt.Sprintf("config file %s: unknown key %q", e.File, e.Name)
	} else {
		msg = fmt.Sprintf("unknown environment variable %s", e.Name)
	}
	if e.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", e.Suggestion)
	}
	return msg
}
