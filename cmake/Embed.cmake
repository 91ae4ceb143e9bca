# cmake -DIN=file -DOUT=file.c -DNAME=symbol -P Embed.cmake: the bytes of IN
# as a C array NAME and its length NAME_len, so that a page is built into
# the binary (no file to find at run time, nothing external to load).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n\t" body "${body}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/Embed.cmake: do not edit. */\n"
  "#include <stddef.h>\n"
  "unsigned char ${NAME}[] = {\n\t${body}\n};\n"
  "const size_t ${NAME}_len = ${bytes};\n")
