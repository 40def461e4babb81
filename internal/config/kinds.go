package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// Parsers for each kind of value. Their errors say what was expected; the
// caller adds the variable and the value.

func parseString(s string) (string, error) { return s, nil }

func parseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, errors.New("not a boolean (true or false)")
	}
	return b, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("not a duration (e.g. 30s, 10m)")
	}
	if d < 0 {
		return 0, errors.New("a negative duration (expected e.g. 30s, 10m)")
	}
	return d, nil
}

func parsePositiveDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err == nil && d == 0 {
		err = errors.New("must be more than 0 (e.g. 30s, 10m)")
	}
	return d, err
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.New("not a whole number")
	}
	return n, nil
}

func parsePositiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errors.New("not a whole number of at least 1")
	}
	return n, nil
}

// parseWholeMB reads a size in MB. The ECS agent takes a fraction; the log
// rotation here counts whole megabytes, so a fraction is refused rather
// than silently rounded.
func parseWholeMB(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errors.New("not a whole number of MB of at least 1 (e.g. 10)")
	}
	return n, nil
}

func parseMiB(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return 0, errors.New("not a whole number of MiB (e.g. 256)")
	case n < 0:
		return 0, errors.New("a negative amount of memory (expected MiB, e.g. 256)")
	}
	return n, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || !validPort(n) {
		return 0, errors.New("not a port (1-65535)")
	}
	return n, nil
}

func validPort(n int) bool { return n >= 1 && n <= 65535 }

// parsePorts reads a JSON array of ports, as the ECS agent does; duplicates
// are dropped and the list is sorted.
func parsePorts(s string) ([]int, error) {
	var ports []int
	if err := json.Unmarshal([]byte(s), &ports); err != nil {
		return nil, errors.New("not a JSON array of ports (e.g. [22, 2375, 2376])")
	}
	seen := map[int]bool{}
	out := []int{}
	for _, p := range ports {
		if !validPort(p) {
			return nil, fmt.Errorf("port %d is not in 1-65535", p)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out, nil
}

func parsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	start, err1 := strconv.Atoi(strings.TrimSpace(lo))
	end, err2 := strconv.Atoi(strings.TrimSpace(hi))
	switch {
	case !ok || err1 != nil || err2 != nil || !validPort(start) || !validPort(end):
		return PortRange{}, errors.New("not a port range (start-end, in 1-65535, e.g. 32768-60999)")
	case start > end:
		return PortRange{}, errors.New("the range's start is above its end (expected start-end, e.g. 32768-60999)")
	}
	return PortRange{Start: start, End: end}, nil
}

func parseStrings(s string) ([]string, error) {
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, errors.New(`not a JSON array of strings (e.g. ["json-file","syslog"])`)
	}
	for _, e := range list {
		if strings.TrimSpace(e) == "" {
			return nil, errors.New(`an empty string in the list (expected e.g. ["json-file","syslog"])`)
		}
	}
	if list == nil {
		list = []string{}
	}
	return list, nil
}

// parseStringMap reads a JSON object of strings whose keys and values are
// at most maxKey and maxValue characters (ECS's limits for attributes and
// tags; it would reject longer ones at registration).
func parseStringMap(maxKey, maxValue int) func(string) (map[string]string, error) {
	return func(s string) (map[string]string, error) {
		var m map[string]string
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, errors.New(`not a JSON object of strings (e.g. {"stack": "prod"})`)
		}
		for k, v := range m {
			switch {
			case k == "":
				return nil, errors.New("an empty key")
			case len(k) > maxKey:
				return nil, fmt.Errorf("key %q is longer than %d characters", k, maxKey)
			case len(v) > maxValue:
				return nil, fmt.Errorf("the value of %q is longer than %d characters", k, maxValue)
			}
		}
		if m == nil {
			m = map[string]string{}
		}
		return m, nil
	}
}

// parseCommaList reads "a, b,c" (ECS_EXCLUDE_UNTRACKED_IMAGE's format).
func parseCommaList(s string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out, nil
}

// enum accepts one of values, in any case, and keeps it in lower case.
func enum(values ...string) func(string) (string, error) {
	return func(s string) (string, error) {
		l := strings.ToLower(strings.TrimSpace(s))
		for _, v := range values {
			if l == v {
				return v, nil
			}
		}
		return "", fmt.Errorf("not one of %s", strings.Join(values, ", "))
	}
}

var pullBehavior = enum(string(apiv1.PullDefault), string(apiv1.PullAlways), string(apiv1.PullOnce), string(apiv1.PullPreferCached))

func parsePullBehavior(s string) (apiv1.PullBehavior, error) {
	v, err := pullBehavior(s)
	return apiv1.PullBehavior(v), err
}

// parsePath makes a path absolute now, so that it does not change meaning
// if the agent's working directory does.
func parsePath(s string) (string, error) {
	p, err := filepath.Abs(s)
	if err != nil {
		return "", fmt.Errorf("not a usable path: %v", err)
	}
	return p, nil
}

var (
	clusterName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	clusterARN  = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}$`)
	regionName  = regexp.MustCompile(`^[a-z]{2,}(-[a-z]+)+-[0-9]{1,2}$`)
)

// parseCluster accepts what ECS accepts as a cluster: a name of up to 255
// letters, digits, hyphens and underscores, or a cluster ARN. The value
// ends up in task ARNs and Docker labels, so nothing else may pass.
func parseCluster(s string) (string, error) {
	if !clusterName.MatchString(s) && !clusterARN.MatchString(s) {
		return "", errors.New("not a cluster name (up to 255 letters, digits, - and _) or cluster ARN")
	}
	return s, nil
}

func parseRegion(s string) (string, error) {
	if !regionName.MatchString(s) {
		return "", errors.New("not an AWS region (e.g. us-west-2)")
	}
	return s, nil
}

// parseDockerHost accepts the schemes the Docker client can dial on Linux.
func parseDockerHost(s string) (string, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	switch {
	case !ok || rest == "":
		return "", errors.New("not a Docker daemon address (e.g. unix:///var/run/docker.sock, tcp://127.0.0.1:2375)")
	case scheme == "unix" || scheme == "tcp" || scheme == "http" || scheme == "https":
		return s, nil
	}
	return "", fmt.Errorf("scheme %q is not one of unix, tcp, http, https", scheme)
}

// parseBackendHost accepts a URL or, as the ECS agent's SDK did, a bare host
// (https is then implied), and returns the URL.
func parseBackendHost(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", errors.New("not an endpoint (e.g. https://ecs.us-west-2.amazonaws.com)")
	}
	return s, nil
}

// Formatters: the effective value, written as the variable would be.

func str[T ~string](s T) string { return string(s) }

func fmtCommaList(l []string) string { return strings.Join(l, ",") }

func fmtBool(b bool) string { return strconv.FormatBool(b) }

func fmtInt(n int) string { return strconv.Itoa(n) }

func fmtInt64(n int64) string { return strconv.FormatInt(n, 10) }

// fmtDuration drops zero units: 3h, not 3h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func formatJSON[T any](v T) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
