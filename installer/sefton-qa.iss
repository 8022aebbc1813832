; Inno Setup 6.3+ script for Sefton QA on Windows: packs the PyInstaller one-folder build
; (dist\sefton-qa\, from installer\sefton-qa.spec) into SeftonQA-Setup-VERSION.exe.
;
;   iscc /DAppVersion=0.1.0 installer\sefton-qa.iss
;
; Run from anywhere; paths are relative to this file. installer\README.md gives the whole
; build-and-sign procedure. Keep in step with installer\sefton-qa.spec: the bundle's folder
; name and exe name (sefton-qa, sefton-qa.exe) and the icon (resources\sefton-qa.ico).
;
; Install mode: per-user by default (no administrator rights; into
; %LOCALAPPDATA%\Programs\Sefton QA), per-machine with /ALLUSERS from an elevated prompt
; (council IT deploying to Program Files). The store, backups and logs live in the user's
; data folder (%LOCALAPPDATA%\sefton-qa, from platformdirs) and the settings in
; HKCU\Software\Sefton QA: the installer never writes there and the uninstaller never removes
; them, so uninstalling or upgrading keeps every audit. An upgrade migrates the store the next
; time the app opens it, after its automatic backup.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z installer\sefton-qa.iss (it must match pyproject.toml)
#endif
#ifndef BundleDir
  #define BundleDir "..\dist\sefton-qa"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif
#define AppName "Sefton QA"
#define AppExe "sefton-qa.exe"
#define AppPublisher "Sefton QA"

[Setup]
; Never change AppId: it is how an upgrade finds the installed copy and how Windows lists it.
AppId={{6C1E4B0A-8F5D-4E8B-9C42-5E7A0B3D2F19}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
; The version in the setup exe's file properties (Properties -> Details).
VersionInfoVersion={#AppVersion}
VersionInfoProductVersion={#AppVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} installer
VersionInfoCompany={#AppPublisher}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline dialog
UsePreviousPrivileges=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=SeftonQA-Setup-{#AppVersion}
SetupIconFile=..\resources\sefton-qa.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName} {#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; An upgrade closes a running Sefton QA first (its files are in use otherwise).
CloseApplications=yes
RestartApplications=no
; Signing: defined only when iscc is given /S"sefton=..." (see installer\README.md); then the
; setup exe and the uninstaller are both signed.
#ifdef Sign
SignTool=sefton
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: files a newer build no longer ships must not linger
; beside it (PyInstaller bundles are not meant to be mixed). Only {app}\_internal: never the
; user's data, which is not under {app}.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Comment: "Case-file audits, moderation and committee packs"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete] section on purpose: the uninstaller removes only what [Files] put in
; {app}; %LOCALAPPDATA%\sefton-qa (store, backups, logs) and the registry settings stay.
