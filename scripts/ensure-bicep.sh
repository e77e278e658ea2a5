#!/usr/bin/env bash
# Makes sure the pinned official Bicep CLI is at .tools/bicep/bicep and prints its path on stdout.
# It comes from NuGet (Azure.Bicep.CommandLine.linux-x64, version pinned in scripts/bicep-cli/restore.csproj)
# through `dotnet restore`, so a fresh machine of the dotnet kind gets it by itself. Exit 1 with the reason when it
# cannot be had (no dotnet, no NuGet source).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(sed -n 's/.*Azure.Bicep.CommandLine.linux-x64" Version="\[\([^]]*\)\]".*/\1/p' "$root/scripts/bicep-cli/restore.csproj")"
tools="$root/.tools/bicep"
bicep="$tools/bicep"

if [ -x "$bicep" ] && [ "$("$bicep" --version 2>/dev/null | grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' | head -n 1)" = "$version" ]; then
  echo "$bicep"
  exit 0
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "ensure-bicep: the .NET SDK (dotnet) is not on PATH; it is needed to restore Bicep $version from NuGet" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$root/scripts/bicep-cli/restore.csproj" "$work/"
if ! DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet restore "$work/restore.csproj" --packages "$work/packages" >"$work/restore.log" 2>&1; then
  echo "ensure-bicep: dotnet restore of Azure.Bicep.CommandLine.linux-x64 $version failed:" >&2
  tail -n 20 "$work/restore.log" >&2
  exit 1
fi
source="$work/packages/azure.bicep.commandline.linux-x64/$version/tools/bicep"
if [ ! -f "$source" ]; then
  echo "ensure-bicep: the restored package has no tools/bicep" >&2
  exit 1
fi
mkdir -p "$tools"
cp "$source" "$bicep.tmp" && chmod +x "$bicep.tmp" && mv "$bicep.tmp" "$bicep"
echo "ensure-bicep: installed Bicep $("$bicep" --version 2>/dev/null)" >&2
echo "$bicep"
