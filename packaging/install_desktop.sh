#!/usr/bin/env bash
# Put the built bundle into the desktop's application menu for this user: the .desktop file (pointing at
# dist/parley/parley), the icons and the AppStream metainfo, under ${XDG_DATA_HOME:-~/.local/share}.
#   make dist && make install-desktop
#   packaging/install_desktop.sh [--uninstall] [BUNDLE_FOLDER]    (default: dist/parley)
set -euo pipefail
cd "$(dirname "$0")/.."
app_id=io.parley.Parley
action=install
if [ "${1:-}" = --uninstall ]; then action=uninstall; shift; fi
bundle="$(realpath -m "${1:-dist/parley}")"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
installed=("$data/applications/$app_id.desktop" "$data/metainfo/$app_id.metainfo.xml")
for icon in "$bundle"/share/icons/hicolor/*/apps/"$app_id".*; do
  [ -e "$icon" ] && installed+=("$data/icons/hicolor/${icon#"$bundle"/share/icons/hicolor/}")
done

# No gtk-update-icon-cache here: a cache in the user's icon folder would hide icons other apps add later.
refresh() {
  if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$data/applications" || true; fi
}

if [ "$action" = uninstall ]; then
  rm -f "${installed[@]}"
  refresh
  echo "install-desktop: removed Parley from $data"
  exit 0
fi
if [ ! -x "$bundle/parley" ] || [ ! -d "$bundle/share" ]; then
  echo "install-desktop: no bundle in $bundle; build it first with: make dist" >&2
  exit 1
fi
mkdir -p "$data/applications" "$data/metainfo"
cp -r "$bundle/share/icons" "$data/"
cp "$bundle/share/metainfo/$app_id.metainfo.xml" "$data/metainfo/"
# The bundle is not on PATH: the launcher runs it by its absolute path.
sed "s|^Exec=parley|Exec=\"$bundle/parley\"|" "$bundle/share/applications/$app_id.desktop" \
  > "$data/applications/$app_id.desktop"
refresh
echo "install-desktop: Parley is in the application menu (launcher: $data/applications/$app_id.desktop)"
