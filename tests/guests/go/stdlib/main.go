// stdlib prints "hello, world", as a program does that links a broad part of the standard
// library: the ~25 MB module of runner/benches/startup.rs, whose start-up (compiling or loading
// it, and the packages' initialisation before main) is what that bench times.
//
// Importing a package is not enough to keep its code: the linker drops what nothing calls. The
// table below refers to a function or two of each package, and main refers to the table, so all
// of it is linked; `stdlib -list` prints the functions' types.
package main

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"compress/lzw"
	"compress/zlib"
	"container/heap"
	"container/list"
	"container/ring"
	"crypto/des"
	"crypto/dsa"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"debug/dwarf"
	"debug/elf"
	"debug/gosym"
	"debug/macho"
	"debug/pe"
	"encoding/ascii85"
	"encoding/asn1"
	"encoding/base32"
	"encoding/csv"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"expvar"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/build/constraint"
	"go/doc"
	"go/doc/comment"
	"go/format"
	"go/importer"
	"go/parser"
	"go/printer"
	"go/types"
	"hash/adler32"
	"hash/crc64"
	"hash/fnv"
	htmltemplate "html/template"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"index/suffixarray"
	"log"
	"log/slog"
	"math/big"
	"math/cmplx"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/cgi"
	"net/http/cookiejar"
	"net/http/fcgi"
	"net/http/httptest"
	"net/http/httputil"
	"net/mail"
	"net/netip"
	"net/rpc"
	"net/rpc/jsonrpc"
	"net/smtp"
	"net/textproto"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"runtime/trace"
	"testing"
	"testing/fstest"
	"text/scanner"
	"text/tabwriter"
	"text/template"
)

var linked = []any{
	tar.NewReader, zip.NewReader, bzip2.NewReader, gzip.NewReader, lzw.NewReader, zlib.NewReader,
	heap.Init, list.New, ring.New,
	des.NewTripleDESCipher, dsa.Sign, ecdh.P256, ecdsa.Sign, ed25519.Sign, elliptic.P384, hmac.New,
	md5.New, rc4.NewCipher, rsa.SignPKCS1v15, sha1.New, sha512.New, tls.Dial, tls.Server,
	x509.ParseCertificate,
	sql.Open, dwarf.New, elf.NewFile, gosym.NewTable, macho.NewFile, pe.NewFile,
	ascii85.NewDecoder, asn1.Marshal, base32.NewEncoder, csv.NewReader, gob.NewDecoder,
	gob.NewEncoder, hex.Dump, json.Marshal, json.Unmarshal, pem.Decode, xml.Marshal, xml.Unmarshal,
	expvar.Publish, flag.Parse,
	ast.Print, build.Import, constraint.Parse, doc.New, (&comment.Parser{}).Parse, format.Source,
	importer.Default, parser.ParseFile, printer.Fprint, (&types.Config{}).Check,
	adler32.New, crc64.MakeTable, fnv.New64a, htmltemplate.New,
	color.ModelFunc, palette.Plan9, draw.Draw, gif.Decode, jpeg.Decode, jpeg.Encode, png.Decode,
	png.Encode, suffixarray.New, log.Printf, slog.New,
	big.NewInt, (&big.Float{}).Text, cmplx.Sqrt, rand.N[int],
	mime.ParseMediaType, multipart.NewReader, quotedprintable.NewReader,
	http.ListenAndServe, http.Get, cgi.Serve, cookiejar.New, fcgi.Serve, httptest.NewServer,
	httputil.DumpRequest, httputil.NewSingleHostReverseProxy, mail.ParseAddress, netip.ParseAddr,
	rpc.NewServer, jsonrpc.NewClient, smtp.Dial, textproto.NewReader,
	signal.Notify, regexp.MustCompile, pprof.StartCPUProfile, pprof.Lookup, trace.Start,
	testing.Benchmark, fstest.TestFS, (&scanner.Scanner{}).Scan, tabwriter.NewWriter, template.New,
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-list" {
		for _, f := range linked {
			fmt.Printf("%T\n", f)
		}
		return
	}
	fmt.Println("hello, world")
}
