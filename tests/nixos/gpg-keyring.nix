# A throw-away OpenPGP key (Ed25519) for signing SHA256SUMS in the VM tests.
# Same recipe as nixpkgs' nixos/tests/common/gpg-keyring.nix.
{ pkgs }:

pkgs.runCommand "mamori-test-gpg-keyring" { nativeBuildInputs = [ pkgs.gnupg ]; } ''
  mkdir -p $out
  export GNUPGHOME=$out
  cat > params <<EOF
    %no-protection
    Key-Type: EdDSA
    Key-Curve: ed25519
    Name-Real: Mamori Test Release
    Name-Email: release@mamori.invalid
    Expire-Date: 0
    %commit
  EOF
  gpg --batch --generate-key params
  rm -f $out/S.gpg-agent*
  gpg --export release@mamori.invalid > $out/pubkey.gpg
''
