package dockerstate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
)

// idPrefix is how the daemon writes image ids.
const idPrefix = "sha256:"

// ImageIndex is a set of local images that answers a lookup the way the
// daemon's image inspect does (daemon/images.GetImage): a name is
// normalised (short names mean docker.io/library/…, a missing tag means
// :latest, a reference with a tag and a digest means the digest); a name
// that is not found, and any bare hex string, is tried as an image id or a
// unique prefix of one; a full 64-digit id or sha256:… digest is an image
// id and nothing else. A name belongs to one image: putting an image that
// carries a name another holds moves the name, as a docker tag does.
//
// The zero value is empty and ready to use. It is not safe for concurrent
// use; the Docker cache and the fake guard it with their own locks.
type ImageIndex struct {
	byID   map[string]Image
	byName map[string]string // normalised name → image id
}

// Resolve returns the image ref names. The error is for a string that is
// no reference at all (the daemon's "invalid reference format").
func (x *ImageIndex) Resolve(ref string) (Image, bool, error) {
	parsed, err := reference.ParseAnyReference(ref)
	if err != nil {
		return Image{}, false, fmt.Errorf("image reference %q: %w", ref, err)
	}
	named, ok := parsed.(reference.Named)
	if !ok {
		// A full id or digest: only an image id matches it.
		img, ok := x.byID[parsed.String()]
		return img.clone(), ok, nil
	}
	if id, ok := x.byName[nameKey(named)]; ok {
		return x.byID[id].clone(), true, nil
	}
	if id, ok := x.searchID(ref); ok {
		return x.byID[id].clone(), true, nil
	}
	return Image{}, false, nil
}

// searchID finds the image whose id starts with term (with or without
// "sha256:"), if exactly one does.
func (x *ImageIndex) searchID(term string) (string, bool) {
	hex := strings.TrimPrefix(term, idPrefix)
	if hex == "" || strings.Trim(hex, "0123456789abcdef") != "" {
		return "", false
	}
	found := ""
	for id := range x.byID {
		if strings.HasPrefix(strings.TrimPrefix(id, idPrefix), hex) {
			if found != "" {
				return "", false // ambiguous: the daemon finds nothing either
			}
			found = id
		}
	}
	return found, found != ""
}

// Put stores img, replacing what the index held for its id, and reports
// whether that changed anything. Its names are taken from any other image
// that held them.
func (x *ImageIndex) Put(img Image) bool {
	img = img.normalized()
	if old, ok := x.byID[img.ID]; ok && old.equal(img) {
		return false
	}
	x.Delete(img.ID)
	if x.byID == nil {
		x.byID = map[string]Image{}
		x.byName = map[string]string{}
	}
	for _, name := range img.names() {
		key, ok := parseNameKey(name)
		if !ok {
			continue // "<none>:<none>" and the like name nothing
		}
		if other, held := x.byName[key]; held && other != img.ID {
			x.dropName(other, key)
		}
		x.byName[key] = img.ID
	}
	x.byID[img.ID] = img
	return true
}

// Delete drops the image with the id and its names; it reports whether the
// index held it.
func (x *ImageIndex) Delete(id string) bool {
	old, ok := x.byID[id]
	if !ok {
		return false
	}
	for _, name := range old.names() {
		if key, ok := parseNameKey(name); ok && x.byName[key] == id {
			delete(x.byName, key)
		}
	}
	delete(x.byID, id)
	return true
}

// Untag drops the name ref from the image holding it, which stays (perhaps
// nameless, as a dangling image does). It returns that image as it is now,
// and false when ref names no image.
func (x *ImageIndex) Untag(ref string) (Image, bool) {
	key, ok := parseNameKey(ref)
	if !ok {
		return Image{}, false
	}
	id, ok := x.byName[key]
	if !ok {
		return Image{}, false
	}
	x.dropName(id, key)
	return x.byID[id].clone(), true
}

// dropName removes the name with the key from the image with the id.
func (x *ImageIndex) dropName(id, key string) {
	delete(x.byName, key)
	img := x.byID[id]
	drop := func(name string) bool { k, ok := parseNameKey(name); return ok && k == key }
	img.RepoTags = slices.DeleteFunc(slices.Clone(img.RepoTags), drop)
	img.RepoDigests = slices.DeleteFunc(slices.Clone(img.RepoDigests), drop)
	x.byID[id] = img
}

// Images returns every image, by id.
func (x *ImageIndex) Images() []Image {
	out := make([]Image, 0, len(x.byID))
	for _, img := range x.byID {
		out = append(out, img.clone())
	}
	slices.SortFunc(out, func(a, b Image) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Replace makes the index hold exactly imgs, as a fresh List says, and
// returns the ids of the images that came, went or changed.
func (x *ImageIndex) Replace(imgs []Image) []string {
	var fresh ImageIndex
	for _, img := range imgs {
		fresh.Put(img)
	}
	var changed []string
	for id, old := range x.byID {
		if img, ok := fresh.byID[id]; !ok || !img.equal(old) {
			changed = append(changed, id)
		}
	}
	for id := range fresh.byID {
		if _, ok := x.byID[id]; !ok {
			changed = append(changed, id)
		}
	}
	*x = fresh
	slices.Sort(changed)
	return changed
}

// nameKey is the daemon's reference store key for a name: fully qualified,
// the digest when there is one, else the tag, :latest by default.
func nameKey(named reference.Named) string {
	if c, ok := named.(reference.Canonical); ok {
		if _, tagged := named.(reference.Tagged); tagged {
			if c, err := reference.WithDigest(reference.TrimNamed(named), c.Digest()); err == nil {
				return c.String()
			}
		}
		return c.String()
	}
	return reference.TagNameOnly(named).String()
}

func parseNameKey(name string) (string, bool) {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return "", false
	}
	return nameKey(named), true
}

// names are every name the image is known by.
func (img *Image) names() []string {
	return append(slices.Clone(img.RepoTags), img.RepoDigests...)
}

// normalized is img as the index keeps it: names sorted, and the creation
// time in whole seconds, as List reports it (inspect has nanoseconds), so
// that an image compares equal however it was learnt.
func (img Image) normalized() Image {
	img = img.clone()
	slices.Sort(img.RepoTags)
	slices.Sort(img.RepoDigests)
	if !img.Created.IsZero() {
		img.Created = time.Unix(img.Created.Unix(), 0)
	}
	return img
}

func (img Image) equal(o Image) bool {
	return img.ID == o.ID && img.Size == o.Size && img.Created.Equal(o.Created) &&
		slices.Equal(img.RepoTags, o.RepoTags) && slices.Equal(img.RepoDigests, o.RepoDigests)
}

func (img Image) clone() Image {
	img.RepoTags = slices.Clone(img.RepoTags)
	img.RepoDigests = slices.Clone(img.RepoDigests)
	return img
}
