package fakeecs

import (
	"encoding/base64"
	"strconv"
)

// paginate cuts one page out of a list in a stable order. The token is the opaque offset of the
// next page; ECS tokens are opaque too, so callers only hand them back.
func paginate(all []string, token *string, max *int32) ([]string, *string, error) {
	limit := defaultListTaskResult
	if max != nil {
		if *max < 1 || *max > maxListResults {
			return nil, nil, errInvalid("maxResults must be between 1 and %d, got %d", maxListResults, *max)
		}
		limit = int(*max)
	}
	start := 0
	if t := deref(token); t != "" {
		b, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil {
			return nil, nil, errInvalid("invalid nextToken")
		}
		n, err := strconv.Atoi(string(b))
		if err != nil || n < 0 || n > len(all) {
			return nil, nil, errInvalid("invalid nextToken")
		}
		start = n
	}
	end := min(start+limit, len(all))
	page := append([]string{}, all[start:end]...)
	if end < len(all) {
		return page, ptr(base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))), nil
	}
	return page, nil, nil
}
