; Per-user Windows installer for the PyInstaller bundle (no administrator rights).
;   makensis /DVERSION=0.1.0 /DBUNDLE=..\..\build\dist\softphone /DOUTFILE=..\..\build\softphone-0.1.0-setup.exe softphone.nsi
; Installs to %LOCALAPPDATA%\Programs\Softphone, adds a Start-menu entry and an uninstaller, and registers
; sip, sips, tel and callto for this user: the same keys as softphone/ui/url_handler.py windows_url_keys()
; (tests/packaging/test_installers.py checks that the two agree). Settings, history and passwords live in
; the user's profile and the keyring, never in the install folder: upgrades and uninstalls keep them.

Unicode true
RequestExecutionLevel user
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef BUNDLE
  !define BUNDLE "..\..\build\dist\softphone"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\build\softphone-${VERSION}-setup.exe"
!endif
!ifndef ICON
  !define ICON "..\..\build\icons\softphone.ico"
!endif
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Softphone"

Name "Softphone ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\Softphone"
InstallDirRegKey HKCU "Software\Softphone" "InstallDir"

!include "MUI2.nsh"
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_FINISHPAGE_RUN "$INSTDIR\softphone.exe"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_LICENSE "..\..\LICENSE"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "German"

!macro URL_SCHEME SCHEME
  WriteRegStr HKCU "Software\Classes\${SCHEME}" "" "URL:${SCHEME} Protocol"
  WriteRegStr HKCU "Software\Classes\${SCHEME}" "URL Protocol" ""
  WriteRegStr HKCU "Software\Classes\${SCHEME}\DefaultIcon" "" '"$INSTDIR\softphone.exe",0'
  WriteRegStr HKCU "Software\Classes\${SCHEME}\shell\open\command" "" '"$INSTDIR\softphone.exe" "%1"'
  WriteRegStr HKCU "Software\Softphone\Capabilities\URLAssociations" "${SCHEME}" "Softphone.URL"
!macroend

!macro REMOVE_URL_SCHEME SCHEME
  ; only if it is still ours: another app may have taken the scheme since
  ReadRegStr $0 HKCU "Software\Classes\${SCHEME}\shell\open\command" ""
  StrCmp $0 '"$INSTDIR\softphone.exe" "%1"' 0 +2
    DeleteRegKey HKCU "Software\Classes\${SCHEME}"
!macroend

Section "Softphone" SecMain
  SetOutPath "$INSTDIR"
  ; an upgrade replaces the program files only
  RMDir /r "$INSTDIR\_internal"
  File /r "${BUNDLE}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\Softphone.lnk" "$INSTDIR\softphone.exe"

  !insertmacro URL_SCHEME "sip"
  !insertmacro URL_SCHEME "sips"
  !insertmacro URL_SCHEME "tel"
  !insertmacro URL_SCHEME "callto"
  WriteRegStr HKCU "Software\Classes\Softphone.URL" "" "Softphone link"
  WriteRegStr HKCU "Software\Classes\Softphone.URL\DefaultIcon" "" '"$INSTDIR\softphone.exe",0'
  WriteRegStr HKCU "Software\Classes\Softphone.URL\shell\open\command" "" '"$INSTDIR\softphone.exe" "%1"'
  WriteRegStr HKCU "Software\Softphone\Capabilities" "ApplicationName" "Softphone"
  WriteRegStr HKCU "Software\Softphone\Capabilities" "ApplicationDescription" "SIP and WebRTC calls from your desktop"
  WriteRegStr HKCU "Software\RegisteredApplications" "Softphone" "Software\Softphone\Capabilities"
  WriteRegStr HKCU "Software\Softphone" "InstallDir" "$INSTDIR"

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "Softphone"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "The Softphone developers"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" '"$INSTDIR\softphone.exe",0'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  ; the phone's settings (%APPDATA%\softphone), history (%LOCALAPPDATA%\softphone) and keyring entries stay
  !insertmacro REMOVE_URL_SCHEME "sip"
  !insertmacro REMOVE_URL_SCHEME "sips"
  !insertmacro REMOVE_URL_SCHEME "tel"
  !insertmacro REMOVE_URL_SCHEME "callto"
  DeleteRegKey HKCU "Software\Classes\Softphone.URL"
  DeleteRegKey HKCU "Software\Softphone\Capabilities"
  DeleteRegValue HKCU "Software\RegisteredApplications" "Softphone"
  DeleteRegKey HKCU "Software\Softphone"
  DeleteRegValue HKCU "Software\Microsoft\Windows\CurrentVersion\Run" "Softphone"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  Delete "$SMPROGRAMS\Softphone.lnk"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\softphone.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
SectionEnd
