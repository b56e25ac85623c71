#!/usr/bin/env bash
# Fetch the datasets that are not bundled in data/ (see /work/shared/REFERENCE.md, "Real data") from
# Debian packages into ${STRAINER_DATA:-$HOME/.cache/strainer}: lfw/lfw_subset.npy and skimage/* from
# python3-skimage, nature/*.jpg from mate-backgrounds, speech/{digits,letters}/*.wav (recorded English
# prompts by one speaker, 8 kHz 16-bit mono, CC BY-SA 3.0) from asterisk-core-sounds-en-wav. Every file
# is checked against the sha256 pinned below (taken from python3-skimage 0.19.3-8, mate-backgrounds
# 1.26.0-1 and asterisk-core-sounds-en-wav 1.6.1-1, Debian bookworm); a mismatch is an error. Idempotent: files already present with the right hash are left alone.
# Nothing is installed: `apt-get download` fetches the .deb, `dpkg-deb --fsys-tarfile | tar x` unpacks it.
set -euo pipefail

CACHE="${STRAINER_DATA:-$HOME/.cache/strainer}"
SKIMAGE=usr/lib/python3/dist-packages/skimage/data
NATURE=usr/share/backgrounds/mate/nature
SPEECH=usr/share/asterisk/sounds/en_US_f_Allison

# package | path inside the package | path under $CACHE | sha256
# skimage: the classic skimage.data photographs, without the tiny test fixtures (block.png,
# palette_*.png, truncated.jpg, ...) and without motorcycle_right.png (the other half of a stereo pair).
# speech: digits/0..9 train the speech prior (the reference recipe's ten clips); digits/10, digits/12
# and letters/a..e are held out (bench/audio.md; the omega_0 sweep uses letters/d and letters/e).
PINS="
python3-skimage|$SKIMAGE/lfw_subset.npy|lfw/lfw_subset.npy|9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c
python3-skimage|$SKIMAGE/astronaut.png|skimage/astronaut.png|88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5
python3-skimage|$SKIMAGE/brick.png|skimage/brick.png|7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf
python3-skimage|$SKIMAGE/camera.png|skimage/camera.png|b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a
python3-skimage|$SKIMAGE/cell.png|skimage/cell.png|8d23a7fb81f7cc877cd09f330357fc7f595651306e84e17252f6e0a1b3f61515
python3-skimage|$SKIMAGE/chelsea.png|skimage/chelsea.png|596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb
python3-skimage|$SKIMAGE/clock_motion.png|skimage/clock_motion.png|f029226b28b642e80113d86622e9b215ee067a0966feaf5e60604a1e05733955
python3-skimage|$SKIMAGE/coffee.png|skimage/coffee.png|cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7
python3-skimage|$SKIMAGE/coins.png|skimage/coins.png|f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba
python3-skimage|$SKIMAGE/color.png|skimage/color.png|7d2df993de2b4fa2a78e04e5df8050f49a9c511aa75e59ab3bd56ac9c98aef7e
python3-skimage|$SKIMAGE/grass.png|skimage/grass.png|b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89
python3-skimage|$SKIMAGE/gravel.png|skimage/gravel.png|c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12
python3-skimage|$SKIMAGE/horse.png|skimage/horse.png|c7fb60789fe394c485f842291ea3b21e50d140f39d6dcb5fb9917cc178225455
python3-skimage|$SKIMAGE/hubble_deep_field.jpg|skimage/hubble_deep_field.jpg|3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4
python3-skimage|$SKIMAGE/ihc.png|skimage/ihc.png|f8dd1aa387ddd1f49d8ad13b50921b237df8e9b262606d258770687b0ef93cef
python3-skimage|$SKIMAGE/logo.png|skimage/logo.png|f2c57fe8af089f08b5ba523d95573c26e62904ac5967f4c8851b27d033690168
python3-skimage|$SKIMAGE/microaneurysms.png|skimage/microaneurysms.png|a1e1be59aa447f8ce082f7fa809997ab369a2b137cb6c4202abc647c7ccf6456
python3-skimage|$SKIMAGE/moon.png|skimage/moon.png|78739619d11f7eb9c165bb5d2efd4772cee557812ec847532dbb1d92ef71f577
python3-skimage|$SKIMAGE/motorcycle_left.png|skimage/motorcycle_left.png|db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179
python3-skimage|$SKIMAGE/page.png|skimage/page.png|341a6f0a61557662b02734a9b6e56ec33a915b2c41886b97509dedf2a43b47a3
python3-skimage|$SKIMAGE/phantom.png|skimage/phantom.png|552ff698167aa402cceb17981130607a228a0a0aa7c519299eaa4d5f301ba36c
python3-skimage|$SKIMAGE/retina.jpg|skimage/retina.jpg|38a07f36f27f095e818aea7b96d34202c05176d30253c66733f2e00379e9e0e6
python3-skimage|$SKIMAGE/rocket.jpg|skimage/rocket.jpg|c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c
python3-skimage|$SKIMAGE/text.png|skimage/text.png|bd84aa3a6e3c9887850d45d606c96b2e59433fbef50338570b63c319e668e6d1
mate-backgrounds|$NATURE/Aqua.jpg|nature/Aqua.jpg|5c30118205982da441bf7e6a1ada636a8a0be879408140b3148280c665ed6bce
mate-backgrounds|$NATURE/Blinds.jpg|nature/Blinds.jpg|f7aac0dcc2e06d0491643e84df3da1d9db7c4610f58806a880d56e074799f600
mate-backgrounds|$NATURE/Dune.jpg|nature/Dune.jpg|8a67c2cb0be8c46b70c237311a4fa4d2b4ac7d39568135384787801fa5cc9a91
mate-backgrounds|$NATURE/FreshFlower.jpg|nature/FreshFlower.jpg|972b0a0c4e5e3fa93f4f244fc84bc64b121a5eac3aaa5856f1308c1f38a02f8e
mate-backgrounds|$NATURE/Garden.jpg|nature/Garden.jpg|d3095ee09d425ef23d27155412136cf14fc3c9af76ca58b452f55e23da324e78
mate-backgrounds|$NATURE/GreenMeadow.jpg|nature/GreenMeadow.jpg|8fa0de0aa4089f7319c9fb7a6d006d4cab6023e8c8853731557cff53567b4832
mate-backgrounds|$NATURE/LadyBird.jpg|nature/LadyBird.jpg|e35a9a4126ef969c90b29c038058c5a575a20eadd84106a37bf1fa9931e7b61d
mate-backgrounds|$NATURE/RainDrops.jpg|nature/RainDrops.jpg|3e4ea9671c28c90a86cf67b3db9daf18c4741587c596333a7529ca589aaa0c16
mate-backgrounds|$NATURE/Storm.jpg|nature/Storm.jpg|77ca53077831d3237f73393a91fc879158abc046d852941c26e90de336356957
mate-backgrounds|$NATURE/TwoWings.jpg|nature/TwoWings.jpg|665e5abf8a5399070a91a9a8e455fe071e5b61697ff78fdeda4e9843ef545aeb
mate-backgrounds|$NATURE/Wood.jpg|nature/Wood.jpg|19c78500ac00a622e19907ab9cc7d06d46fe08c4a6142759a84195696150ec07
mate-backgrounds|$NATURE/YellowFlower.jpg|nature/YellowFlower.jpg|254da96256acb7add685679775a04d1e4a5bc8cd13e5a5a3d61351ce198a5306
asterisk-core-sounds-en-wav|$SPEECH/digits/0.wav|speech/digits/0.wav|62debe1daf11756460c0de78d0e1ac7fe28b12fb51a30df3364ce74b90f05d31
asterisk-core-sounds-en-wav|$SPEECH/digits/1.wav|speech/digits/1.wav|fb38aca5558d50f7bd4d7986adeea19b97eba894c574fc92acc3b33b480eb701
asterisk-core-sounds-en-wav|$SPEECH/digits/2.wav|speech/digits/2.wav|6ef0a6b67a1741e950c491ef664bbfb424b63fab314d616d6f0e467cc0838dee
asterisk-core-sounds-en-wav|$SPEECH/digits/3.wav|speech/digits/3.wav|4ec0371d15f721c61be36fe6ca54d0de29d9b9a48062634969556c50ff81faed
asterisk-core-sounds-en-wav|$SPEECH/digits/4.wav|speech/digits/4.wav|f1c007fbd2eefa235ea10260b79527b89b88f6d2182008e86221572ad92f204f
asterisk-core-sounds-en-wav|$SPEECH/digits/5.wav|speech/digits/5.wav|412b4b7729a8bae7b2b13ad8af9f6989abba8a4b9d5fc1c499b13a3b986653a5
asterisk-core-sounds-en-wav|$SPEECH/digits/6.wav|speech/digits/6.wav|89c80e3c120f90112159d911568d2ca4a13f369a864ee26e882802385fab2474
asterisk-core-sounds-en-wav|$SPEECH/digits/7.wav|speech/digits/7.wav|125c9acb8b5b6549079233c922782bfdf585d8c438906467921329669c6939fe
asterisk-core-sounds-en-wav|$SPEECH/digits/8.wav|speech/digits/8.wav|854114f9f3bb94d36490b2951957a662e75212648a5e2330f1f3c56184d30488
asterisk-core-sounds-en-wav|$SPEECH/digits/9.wav|speech/digits/9.wav|535d4117923ad8bac20185eb0746b421479ddec4f4acd2329285096a573d6e34
asterisk-core-sounds-en-wav|$SPEECH/digits/10.wav|speech/digits/10.wav|f751f3503f50a2bb7aa1fa5a789a2dfd83573f55be0df8661be4c95d85a402cf
asterisk-core-sounds-en-wav|$SPEECH/digits/12.wav|speech/digits/12.wav|24570b35fe1aea7e3ebdbd2efe43c54ee4c78c7b4481bd8e1a0597d43f0772a2
asterisk-core-sounds-en-wav|$SPEECH/letters/a.wav|speech/letters/a.wav|8ca6ea9d0f3a12ef1f70f37392da1c45546b8c460a05aebebb69286152a511e1
asterisk-core-sounds-en-wav|$SPEECH/letters/b.wav|speech/letters/b.wav|45317a160aa33e8f462e7ab16afd58d40cfbe10c3d13613eacddd39616aa4ac2
asterisk-core-sounds-en-wav|$SPEECH/letters/c.wav|speech/letters/c.wav|7da1532875f90286a316b7a2cbb7686d4e3a14170d9509fa71d9ec36baeb34ba
asterisk-core-sounds-en-wav|$SPEECH/letters/d.wav|speech/letters/d.wav|c42ac893dfee249a22c366228a23bed90189f46047defef4fa628e63946b1c58
asterisk-core-sounds-en-wav|$SPEECH/letters/e.wav|speech/letters/e.wav|3ae60cd6933f139e436095415d58d19672fa70fb75a908595b29336efcc7bf39
"

die() { echo "fetch-data: ERROR: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
for tool in apt-get dpkg-deb tar sha256sum; do command -v "$tool" >/dev/null || die "$tool not found (needs a Debian-based system)"; done

# Which packages still have a file missing or with the wrong hash?
needed=""
while IFS='|' read -r pkg _member dest sha; do
  [ -n "$pkg" ] || continue
  if [ ! -f "$CACHE/$dest" ] || [ "$(sha_of "$CACHE/$dest")" != "$sha" ]; then
    case " $needed " in *" $pkg "*) ;; *) needed="$needed $pkg" ;; esac
  fi
done <<< "$PINS"

if [ -z "$needed" ]; then
  echo "fetch-data: all $(grep -c '|' <<< "$PINS") files present and verified in $CACHE"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

download() { # apt-get download, refreshing the package lists once if the first try fails
  (cd "$work" && apt-get download "$1" >/dev/null 2>&1) && return 0
  echo "fetch-data: apt-get download $1 failed; running apt-get update and retrying" >&2
  apt-get update >/dev/null || die "apt-get update failed (are you root, is the network up?)"
  (cd "$work" && apt-get download "$1") || die "apt-get download $1 failed"
}

fetched=0
for pkg in $needed; do
  download "$pkg"
  deb="$(ls "$work"/"${pkg}"_*.deb)"
  echo "fetch-data: unpacking $(basename "$deb")"
  members=()
  while IFS='|' read -r p member _dest _sha; do
    [ "$p" = "$pkg" ] && members+=("./$member")
  done <<< "$PINS"
  mkdir -p "$work/root"
  dpkg-deb --fsys-tarfile "$deb" | tar x -C "$work/root" "${members[@]}" || die "could not extract files from $deb"
  while IFS='|' read -r p member dest sha; do
    [ "$p" = "$pkg" ] || continue
    got="$(sha_of "$work/root/$member")"
    [ "$got" = "$sha" ] || die "sha256 mismatch for $member from $(basename "$deb"): expected $sha, got $got (the package changed; re-pin deliberately)"
    if [ -f "$CACHE/$dest" ] && [ "$(sha_of "$CACHE/$dest")" = "$sha" ]; then continue; fi
    mkdir -p "$(dirname "$CACHE/$dest")"
    cp "$work/root/$member" "$CACHE/$dest.tmp" && mv "$CACHE/$dest.tmp" "$CACHE/$dest"
    echo "  fetched $dest ($(stat -c %s "$CACHE/$dest") bytes, sha256 ${sha:0:12}...)"
    fetched=$((fetched + 1))
  done <<< "$PINS"
done

# Final check of the whole cache against the pins.
while IFS='|' read -r pkg _member dest sha; do
  [ -n "$pkg" ] || continue
  [ -f "$CACHE/$dest" ] || die "$CACHE/$dest missing after fetch"
  [ "$(sha_of "$CACHE/$dest")" = "$sha" ] || die "sha256 mismatch for $CACHE/$dest after fetch"
done <<< "$PINS"
echo "fetch-data: fetched $fetched file(s) into $CACHE; all $(grep -c '|' <<< "$PINS") pinned files verified"
