-- delete_doc.lua (runs after prelude.lua, which documents KEYS[1] and ARGV[1..3])
-- ARGV: 4 id
sweep(tonumber(ARGV[3]))

local ix = live('k' .. NUL .. ARGV[4], B .. ':k:' .. ARGV[4])
if not ix then return 0 end
remove(cjson.decode(ix), false)
return 1
