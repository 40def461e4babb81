package v1

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// TaskNameFromARN is the Task object's name for a task ARN: the task id,
// the ARN's last path element. ECS has written task ARNs in two formats,
// arn:…:task/<id> and (since the 2018 long ARN format) arn:…:task/<cluster>/<id>;
// both end in the id, which is unique within a region.
func TaskNameFromARN(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// ImageObjectName is the name of the Image object for an image reference:
// readable, and unique thanks to 128 bits of a digest of the exact
// reference (two references that sanitize alike, such as a:b and a-b, still
// differ; 32 bits would collide, by the birthday bound, once in about 10^4
// hosts holding a thousand references each).
func ImageObjectName(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	base := strings.ToLower(SanitizeName(ref))
	if len(base) > 80 {
		base = base[:80]
	}
	return base + "-" + hex.EncodeToString(sum[:16])
}

var unsafeNameChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// SanitizeName makes a string usable as a Docker or object name: every run
// of other characters becomes one dash, and no leading or trailing dash or
// dot is left (Docker refuses names that start with either).
func SanitizeName(s string) string {
	return strings.Trim(unsafeNameChars.ReplaceAllString(s, "-"), "-.")
}
