package config

import (
	"errors"
	"fmt"
	"os"

	"github.com/chara-dev/chara/internal/atomicfile"
)

// Template is the chara.yaml that "chara init" writes: the five Nakano
// sisters (The Quintessential Quintuplets) with their real Danbooru tags,
// the public boards that serve them, and every setting at its default,
// commented. It must always pass Parse (a test checks).
const Template = `# chara.yaml: what to scrape, how to curate, and how to build and train.
# Every key below is at its default unless it says otherwise; delete what you
# do not change. Every key: docs/config.md; "chara config show" prints the
# effective settings, "chara config check" validates this file.

# The boards to search. Credentials can also come from the environment:
# CHARA_<SOURCE>_LOGIN, CHARA_<SOURCE>_API_KEY (e.g. CHARA_DANBOORU_API_KEY).
sources:
  danbooru:
    kind: danbooru
    url: https://danbooru.donmai.us
    # A search may combine two tags for Anonymous and free (Member)
    # accounts, six for Gold; rating:, status:, score:, id: and Danbooru's
    # other free metatags do not count. An account does not raise the
    # limit for free; with Gold set tag_limit: 6.
    # login: your_name
    # api_key: ...
    # user_id: 123456 # your numeric user id: put in the User-Agent, as Danbooru's staff ask
  safebooru:
    kind: gelbooru # Safebooru runs the Gelbooru software; all-ages posts only
    url: https://safebooru.org
  yandere:
    kind: moebooru
    url: https://yande.re
  # Zerochan asks every client to name its user in the User-Agent, so it
  # needs your zerochan user name; uncomment, set login, and uncomment the
  # zerochan queries below. Its tags are names ("Nakano Miku"); combine
  # several with commas ("Nakano Miku,Solo"); strict: true keeps posts whose
  # primary tag is the first one. 60 requests a minute, pages and files.
  # zerochan:
  #   kind: zerochan
  #   url: https://www.zerochan.net
  #   login: your_zerochan_name
  #   strict: true
  # The API kinds above call each site's documented API and do not read
  # robots.txt (Danbooru's disallows /*.json for every crawler); kind: html
  # galleries honour it. A site behind a Cloudflare browser check needs
  # cookies: cookies.txt (exported from a browser that passed it) and
  # user_agent: that browser's User-Agent. See docs/sources.md.

scrape:
  candidates: 1200 # images to download per class before curation
  ratings: [g, s] # general and sensitive; q and e are never wanted here
  # Several machines sharing one crawl (README, "Several machines, one
  # crawl"): the same chara.yaml on each, one Redis server for all. The
  # fleet keeps one machine's pace on each site; chara collect gathers the
  # files afterwards.
  # redis: redis://:PASSWORD@redis-host:6379/0
  # job: nakano-sisters # default: derived from the sources and classes
  single_character: true # skip posts tagged with another character, or several
  exclude_tags: [comic, 4koma, cosplay, photo_(medium), sketch, monochrome, greyscale]
  # min_side: 300 # fetch a site's sample instead of the original when both sides reach it (default: from images:)

curate:
  phash_threshold: 12 # near-duplicate distance (64-bit pHash; colour, aspect and detail must agree too)

# The dataset: every class gets exactly per_class images, resized to
# height x width.
images:
  per_class: 800
  height: 300
  width: 150
  fit: pad # pad (keep the aspect ratio) | crop (centre) | stretch

split:
  train: 0.70
  val: 0.15
  test: 0.15
  group_threshold: -1 # curation's near-duplicate groups never straddle two splits; 0..64 also joins kept images this close by pHash

# What each model needs:
#   effnet-b0  EfficientNet-B0 (4M parameters). Needs torchvision's ImageNet
#              weights to do well: "chara weights fetch effnet-b0", then set
#              weights: below. Without them it trains from scratch (slower,
#              far less accurate). On a CPU an epoch of 15 x 560 images at
#              300x150 takes tens of minutes; freeze: true trains only the
#              head on cached features (minutes). On a GPU, seconds.
#   cnn        a small CNN from scratch: minutes on a CPU, no weights.
#   cnn2       the improved CNN (batch norm, dropout): minutes on a CPU.
train:
  models: [effnet-b0, cnn2]
  epochs: 50
  batch_size: 32
  device: auto # auto | cpu | cuda
  # weights: /path/printed/by/chara/weights/fetch/efficientnet_b0_rwightman-7f5810bc.pth
  # freeze: true # effnet-b0 on a CPU: head only, on cached backbone features

seed: 42 # one seed for selection, splits and training

# The characters. A query is the board's own tag search; "solo" keeps
# pictures of one character, which is what a classifier needs.
# Add one with: chara classes add "Name" --query danbooru="tag solo"
classes:
  - name: Nakano Ichika
    queries:
      danbooru: nakano_ichika solo
      safebooru: nakano_ichika solo
      yandere: nakano_ichika solo
      # zerochan: Nakano Ichika
  - name: Nakano Nino
    queries:
      danbooru: nakano_nino solo
      safebooru: nakano_nino solo
      yandere: nakano_nino solo
      # zerochan: Nakano Nino
  - name: Nakano Miku
    queries:
      danbooru: nakano_miku solo
      safebooru: nakano_miku solo
      yandere: nakano_miku solo
      # zerochan: Nakano Miku
  - name: Nakano Yotsuba
    queries:
      danbooru: nakano_yotsuba solo
      safebooru: nakano_yotsuba solo
      yandere: nakano_yotsuba solo
      # zerochan: Nakano Yotsuba
  - name: Nakano Itsuki
    queries:
      danbooru: nakano_itsuki solo
      safebooru: nakano_itsuki solo
      yandere: nakano_itsuki solo
      # zerochan: Nakano Itsuki
`

// ErrExists is returned by WriteTemplate when the file is already there.
var ErrExists = errors.New("config file already exists")

// WriteTemplate writes Template to path atomically; it never overwrites an
// existing file.
func WriteTemplate(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s: %w", path, ErrExists)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return atomicfile.WriteFile(path, []byte(Template), 0o644)
}

// ReplaceWithTemplate writes the template over path, first copying an
// existing file to the first free name of path.bak, path.bak.2, ... It
// returns the backup's path ("" when there was nothing to keep).
func ReplaceWithTemplate(path string) (backup string, err error) {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", atomicfile.WriteFile(path, []byte(Template), 0o644)
	case err != nil:
		return "", err
	}
	for i := 1; ; i++ {
		backup = path + ".bak"
		if i > 1 {
			backup = fmt.Sprintf("%s.bak.%d", path, i)
		}
		if _, err := os.Lstat(backup); errors.Is(err, os.ErrNotExist) {
			break
		} else if err != nil {
			return "", err
		}
	}
	if err := atomicfile.WriteFile(backup, old, 0o644); err != nil {
		return "", fmt.Errorf("backing up %s: %w", path, err)
	}
	return backup, atomicfile.WriteFile(path, []byte(Template), 0o644)
}
